"""Payments due and SEPA batches: prepared, downloaded, executed once, or cancelled.

The service is driven as the Payments pages and the CLI drive it; every test that moves
money ends with the books balancing (tests/ledger_checks.py).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.helpers import login, snapshot
from tests.jobs_support import post_and_download
from tests.ledger_checks import assert_books_balance
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import BankDetailsChange, BatchItem, Job, Payment, PaymentBatch
from vouchers.services import batch_files, payments
from vouchers.services import payment_batches as pb
from vouchers.services.errors import InvalidInput, NotAllowed, PaymentRefused

IBAN, BIC = "DE89370400440532013000", "COBADEFFXXX"
SME_IBANS = ("NL91ABNA0417164300", "ES9121000418450200051332", "FR1420041010050500013M02606",
             "BE68539007547034", "DK5000400440116243")


def give_bank_details(org, n: int = 0) -> None:
    org.iban, org.bic = SME_IBANS[n % len(SME_IBANS)], ""
    org.account_holder = org.legal_name
    db.session.commit()


def give_debtor(programme) -> None:
    programme.debtor_name, programme.debtor_iban = "Health Vouchers Lead Partner", IBAN
    programme.debtor_bic = BIC
    db.session.commit()


def due_voucher(make, cvt, manager, n: int = 0, state: str = "completed"):
    """A voucher with money due (its final payment), its company with bank details."""
    application = make.application(state, cvt, manager=manager)
    give_bank_details(application.organisation, n)
    return application


def payments_count(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(Payment).where(*where))


@pytest.fixture
def call(make):
    call = make.call()
    give_debtor(call.programme)
    return call


@pytest.fixture
def manager(make):
    return make.manager()


@pytest.fixture
def travel(call):
    return call.voucher_type("travel")


# --- what is due ------------------------------------------------------------------------


def test_the_due_list_shows_final_payments_and_advances_with_their_bank_details(
        make, call, manager, travel):
    call.advance_share = Decimal("0.40")
    db.session.commit()
    completed = due_voucher(make, travel, manager, 0)
    awarded = due_voucher(make, call.voucher_type("impact"), manager, 1, state="awarded")
    no_bank = make.application("completed", travel, manager=manager)
    make.application("under_review", travel, manager=manager)  # nothing due
    dues = {d.application.id: d for d in pb.due_payments(call)}
    assert set(dues) == {completed.id, awarded.id, no_bank.id}
    final = dues[completed.id]
    assert (final.kind, final.amount, final.iban, final.selectable) == (
        "payment", Decimal("5000.00"), SME_IBANS[0], True)
    advance = dues[awarded.id]
    assert (advance.kind, advance.amount) == ("advance", Decimal("40000.00"))
    assert not dues[no_bank.id].selectable
    assert dues[no_bank.id].problem.startswith("No bank details")


def test_bank_details_that_do_not_check_out_or_await_confirmation_cannot_be_selected(
        make, call, manager, travel):
    bad = due_voucher(make, travel, manager, 0)
    bad.organisation.iban = "NL91ABNA0417164301"
    changing = due_voucher(make, travel, manager, 1)
    db.session.add(BankDetailsChange(
        organisation_id=changing.organisation_id, iban=SME_IBANS[2], account_holder="New",
        requested_by_id=changing.applicant_id,
        pending_organisation_id=changing.organisation_id))
    db.session.commit()
    dues = {d.application.id: d for d in pb.due_payments(call)}
    assert "check digits do not match" in dues[bad.id].problem
    assert "await a manager's confirmation" in dues[changing.id].problem
    with pytest.raises(PaymentRefused, match="check digits do not match"):
        pb.prepare_batch(call, manager, [bad.id], today())


# --- preparing --------------------------------------------------------------------------


def test_preparing_holds_the_vouchers_and_records_nothing(make, call, manager, travel):
    first, second = (due_voucher(make, travel, manager, n) for n in range(2))
    batch = pb.prepare_batch(call, manager, [first.id, second.id], today())
    db.session.commit()
    assert batch.message_id == f"VCH-{call.code}-{batch.id}"
    assert [(i.application_id, i.kind, i.amount, i.pending_application_id)
            for i in batch.items] == [(first.id, "payment", Decimal("5000.00"), first.id),
                                      (second.id, "payment", Decimal("5000.00"), second.id)]
    item = batch.items[0]
    assert item.iban == SME_IBANS[0] and item.account_holder == first.organisation.legal_name
    assert item.remittance == (f"Voucher {first.reference} final payment "
                               f"{call.programme.name}")
    assert pb.due_payments(call) == []
    assert payments_count() == 0 and first.state == "completed"
    with pytest.raises(PaymentRefused, match="in a payment batch awaiting execution"):
        payments.record_payment(first, manager, "5000", paid_on=today(), reference="BY-HAND")
    assert_books_balance()


@pytest.mark.parametrize(("ids", "when", "error", "message"), [
    ("none", 0, InvalidInput, "Select at least one payment"),
    ("due", -1, InvalidInput, "has passed: give today or a later day"),
    ("due", 400, InvalidInput, "more than a year ahead"),
    ("due", None, InvalidInput, "Give the day the bank should execute"),
    ("not_due", 0, PaymentRefused, "has nothing due now"),
    ("no_bank", 0, PaymentRefused, "No bank details"),
    ("other_call", 0, PaymentRefused, "is not a voucher of call"),
])
def test_a_batch_that_cannot_be_prepared_is_refused_and_changes_nothing(
        make, call, manager, travel, ids, when, error, message):
    picked = {
        "none": [],
        "due": [due_voucher(make, travel, manager).id],
        "not_due": [make.application("awarded", travel, manager=manager).id],
        "no_bank": [make.application("completed", travel, manager=manager).id],
        "other_call": [due_voucher(make, make.call().voucher_type("travel"), manager).id],
    }[ids]
    before = snapshot()
    day = None if when is None else today() + timedelta(days=when)
    with pytest.raises(error, match=message):
        pb.prepare_batch(call, manager, picked, day)
    db.session.rollback()
    assert snapshot() == before


def test_no_batch_without_the_programmes_own_account(make, call, manager, travel):
    voucher = due_voucher(make, travel, manager)
    call.programme.debtor_iban = ""
    db.session.commit()
    with pytest.raises(PaymentRefused, match="Give the bank account of .* on the programme's"):
        pb.prepare_batch(call, manager, [voucher.id], today())


def test_a_voucher_goes_into_one_open_batch_only(make, call, manager, travel):
    voucher = due_voucher(make, travel, manager)
    pb.prepare_batch(call, manager, [voucher.id], today())
    db.session.commit()
    with pytest.raises(PaymentRefused, match="already in a batch awaiting execution"):
        pb.prepare_batch(call, manager, [voucher.id], today())


def test_only_managers_prepare(make, call, travel, manager):
    voucher = due_voucher(make, travel, manager)
    with pytest.raises(NotAllowed):
        pb.prepare_batch(call, voucher.applicant, [voucher.id], today())


# --- the file, executing, cancelling -------------------------------------------------------


def _prepared(make, call, manager, travel, n: int = 2):
    vouchers = [due_voucher(make, travel, manager, i) for i in range(n)]
    batch = pb.prepare_batch(call, manager, [v.id for v in vouchers], today())
    db.session.commit()
    return batch, vouchers


def test_downloading_twice_gives_the_same_file_and_records_nothing(make, call, manager, travel):
    batch, _ = _prepared(make, call, manager, travel)
    before = snapshot()
    first, second = batch_files.sepa_xml(batch), batch_files.sepa_xml(batch)
    assert first == second
    assert f"<MsgId>{batch.message_id}</MsgId>".encode() in first
    assert b"<CtrlSum>10000.00</CtrlSum>" in first
    assert snapshot() == before


def test_executing_records_each_payment_once_and_closes_the_vouchers(make, call, manager,
                                                                      travel):
    batch, vouchers = _prepared(make, call, manager, travel)
    batch_files.sepa_xml(batch)
    pb.execute_batch(batch, manager, "BANK-2026-0042", today())
    db.session.commit()
    assert (batch.status, batch.bank_reference, batch.executed_on) == (
        "executed", "BANK-2026-0042", today())
    assert [v.state for v in vouchers] == ["paid", "paid"]
    paid = list(db.session.scalars(select(Payment).order_by(Payment.id)))
    assert [(p.application_id, p.amount, p.reference, p.batch_item_id) for p in paid] == [
        (v.id, Decimal("5000.00"), "BANK-2026-0042", item.id)
        for v, item in zip(vouchers, batch.items, strict=True)]
    assert all(i.pending_application_id is None for i in batch.items)
    assert_books_balance()
    # Again: refused, nothing changes; the file can still be downloaded, recording nothing.
    before = snapshot()
    with pytest.raises(PaymentRefused, match="already recorded as executed .* BANK-2026-0042"):
        pb.execute_batch(batch, manager, "BANK-AGAIN", today())
    with pytest.raises(PaymentRefused, match="already recorded as executed"):
        pb.cancel_batch(batch, manager)
    db.session.rollback()
    batch_files.sepa_xml(batch)
    assert snapshot() == before
    assert payments_count() == 2


@pytest.mark.parametrize(("reference", "days", "message"), [
    ("", 0, "Give the bank's reference"),
    ("BANK-1", 1, "cannot be in the future"),
    ("BANK-1", None, "Give the day the bank executed"),
    ("B" * 61, 0, "too long"),
])
def test_a_bad_execution_is_refused_and_changes_nothing(make, call, manager, travel,
                                                        reference, days, message):
    batch, _ = _prepared(make, call, manager, travel, 1)
    before = snapshot()
    with pytest.raises(InvalidInput, match=message):
        pb.execute_batch(batch, manager, reference,
                         None if days is None else today() + timedelta(days=days))
    db.session.rollback()
    assert snapshot() == before


def test_an_execution_before_the_batch_was_prepared_is_refused(make, call, manager, travel):
    batch, _ = _prepared(make, call, manager, travel, 1)
    with pytest.raises(InvalidInput, match="before the batch was prepared"):
        pb.execute_batch(batch, manager, "BANK-1", today() - timedelta(days=1))


def test_cancelling_releases_the_vouchers_and_records_nothing(make, call, manager, travel):
    batch, vouchers = _prepared(make, call, manager, travel)
    pb.cancel_batch(batch, manager)
    db.session.commit()
    assert batch.status == "cancelled"
    assert {d.application.id for d in pb.due_payments(call)} == {v.id for v in vouchers}
    assert payments_count() == 0
    with pytest.raises(PaymentRefused, match="cancelled, so it cannot be executed"):
        pb.execute_batch(batch, manager, "BANK-1", today())
    with pytest.raises(PaymentRefused, match="cancelled: its file must not go to the bank"):
        batch_files.sepa_xml(batch)
    # Due again: a new batch takes them, and paying by hand works once none holds them.
    payments.record_payment(vouchers[0], manager, "5000", paid_on=today(), reference="HAND")
    db.session.commit()
    assert vouchers[0].state == "paid"
    assert_books_balance()


def test_an_advance_batch_pays_the_advance(make, call, manager):
    call.advance_share = Decimal("0.50")
    db.session.commit()
    voucher = due_voucher(make, call.voucher_type("market_validation"), manager,
                          state="awarded")
    batch = pb.prepare_batch(call, manager, [voucher.id], today())
    pb.execute_batch(batch, manager, "ADV-1", today())
    db.session.commit()
    assert (voucher.state, voucher.paid_amount) == ("awarded", Decimal("30000.00"))
    assert db.session.scalar(select(Payment.kind)) == "advance"
    assert pb.due_payments(call) == []
    assert_books_balance()


def test_a_voucher_in_an_open_batch_cannot_be_cancelled_or_closed_out(make, call, manager):
    call.advance_share = Decimal("0.50")
    db.session.commit()
    voucher = due_voucher(make, call.voucher_type("market_validation"), manager,
                          state="awarded")
    pb.prepare_batch(call, manager, [voucher.id], today())
    db.session.commit()
    from vouchers.services import transitions

    before = snapshot()
    with pytest.raises(PaymentRefused, match="in a payment batch awaiting execution"):
        transitions.cancel(voucher, manager, "Given up.")
    db.session.rollback()
    assert snapshot() == before


# --- the pages ----------------------------------------------------------------------------


def _page(response) -> str:
    return response.get_data(as_text=True)


def test_the_pages_take_a_manager_from_the_menu_to_an_executed_batch(client, make, call,
                                                                    manager, travel):
    vouchers = [due_voucher(make, travel, manager, n) for n in range(2)]
    no_bank = make.application("completed", travel, manager=manager)
    login(client, manager)
    home = _page(client.get("/manage/payments"))
    assert 'href="/manage/payments">Payments</a>' in home
    assert f'href="/manage/calls/{call.id}/payments"' in home
    page = _page(client.get(f"/manage/calls/{call.id}/payments"))
    for v in vouchers:
        assert f'name="application_ids" value="{v.id}" checked' in page
    assert f'value="{no_bank.id}"' not in page and "No bank details" in page
    response = client.post(f"/manage/calls/{call.id}/payments/batches", data={
        "application_ids": [str(v.id) for v in vouchers],
        "execution_date": today().isoformat()})
    assert response.status_code == 303
    batch = db.session.scalar(select(PaymentBatch))
    assert response.headers["Location"].endswith(f"/manage/payments/batches/{batch.id}")
    page = _page(client.get(response.headers["Location"]))
    assert "Make the SEPA file (pain.001 XML)" in page and "Mark executed" in page
    for _ in range(2):  # the file is made by a job, whose page offers it (tests/jobs_support)
        with post_and_download(client, f"/manage/payments/batches/{batch.id}/sepa.xml") as download:
            assert download.status_code == 200
            assert download.mimetype == "application/xml"
            assert download.headers["Content-Disposition"] == (
                f"attachment; filename={batch.message_id}.xml")
            assert download.data == batch_files.sepa_xml(batch)
    assert payments_count() == 0
    response = client.post(f"/manage/payments/batches/{batch.id}/execute", data={
        "bank_reference": "STMT-7781", "executed_on": today().isoformat()})
    assert response.status_code == 303
    db.session.expire_all()
    assert [v.state for v in vouchers] == ["paid", "paid"] and payments_count() == 2
    again = client.post(f"/manage/payments/batches/{batch.id}/execute", data={
        "bank_reference": "STMT-7781", "executed_on": today().isoformat()})
    assert again.status_code == 422 and "already recorded as executed" in _page(again)
    listing = _page(client.get(f"/manage/calls/{call.id}/payments"))
    assert "STMT-7781" in listing and "Executed" in listing
    assert_books_balance()


def test_a_refused_preparation_is_shown_on_the_page(client, make, call, manager, travel):
    voucher = due_voucher(make, travel, manager)
    login(client, manager)
    response = client.post(f"/manage/calls/{call.id}/payments/batches", data={
        "execution_date": today().isoformat()})
    assert response.status_code == 422
    assert "Select at least one payment" in _page(response)
    response = client.post(f"/manage/calls/{call.id}/payments/batches", data={
        "application_ids": ["x1"], "execution_date": "yesterday"})
    assert response.status_code == 400
    assert "not a voucher" in _page(response) and "YYYY-MM-DD" in _page(response)
    assert db.session.scalar(select(func.count()).select_from(BatchItem)) == 0
    assert voucher.state == "completed"


def test_cancelling_on_the_page(client, make, call, manager, travel):
    batch, vouchers = _prepared(make, call, manager, travel, 1)
    login(client, manager)
    response = client.post(f"/manage/payments/batches/{batch.id}/cancel")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/manage/calls/{call.id}/payments")
    page = _page(client.get(f"/manage/payments/batches/{batch.id}"))
    assert "Cancelled" in page and "Make the SEPA file" not in page
    refused = client.post(f"/manage/payments/batches/{batch.id}/sepa.xml")
    assert refused.status_code == 422
    assert "This batch was cancelled: its file must not go to the bank." in _page(refused)
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_pages_are_for_managers_only(client, make, call, manager, travel):
    batch, vouchers = _prepared(make, call, manager, travel, 1)
    login(client, vouchers[0].applicant)
    for url in ("/manage/payments", f"/manage/calls/{call.id}/payments"):
        assert client.get(url).status_code == 404
    assert client.post(f"/manage/payments/batches/{batch.id}/sepa.xml").status_code == 404


# --- the command line --------------------------------------------------------------------


def test_sepa_export_writes_the_file_of_every_payment_due(runner, make, call, manager,
                                                          travel, tmp_path):
    vouchers = [due_voucher(make, travel, manager, n) for n in range(3)]
    make.application("completed", travel, manager=manager)  # no bank details: left out
    output = tmp_path / "batch.xml"
    result = runner.invoke(args=["sepa-export", "--call", str(call.id), "--output",
                                 str(output)])
    assert result.exit_code == 0, result.output
    batch = db.session.scalar(select(PaymentBatch))
    assert f"Batch {batch.id} ({batch.message_id}) written to {output}: 3 transfers, " \
           "control sum €15,000.00" in result.output
    assert f"/manage/payments/batches/{batch.id}" in result.output
    assert "Left out" in result.output
    assert output.read_bytes() == batch_files.sepa_xml(batch)
    assert batch.created_by_id == manager.id
    assert {i.application_id for i in batch.items} == {v.id for v in vouchers}
    again = runner.invoke(args=["sepa-export", "--call", str(call.id), "--output",
                                str(tmp_path / "again.xml")])
    assert again.exit_code != 0 and "No payment of call" in again.output
    assert not (tmp_path / "again.xml").exists()


def test_sepa_export_refuses_clearly(runner, make, call, manager, travel, tmp_path):
    output = str(tmp_path / "x.xml")
    missing = runner.invoke(args=["sepa-export", "--call", "999999", "--output", output])
    assert missing.exit_code != 0 and "There is no call with id 999999" in missing.output
    due_voucher(make, travel, manager)
    stranger = runner.invoke(args=["sepa-export", "--call", str(call.id), "--output", output,
                                   "--as", "nobody@x.example"])
    assert stranger.exit_code != 0 and "not an enabled manager" in stranger.output
    past = runner.invoke(args=["sepa-export", "--call", str(call.id), "--output", output,
                               "--execution-date", "2020-01-01"])
    assert past.exit_code != 0 and "has passed" in past.output
    assert db.session.scalar(select(func.count()).select_from(PaymentBatch)) == 0
    chosen = runner.invoke(args=["sepa-export", "--call", str(call.id), "--output", output,
                                 "--as", manager.email, "--execution-date",
                                 (today() + timedelta(days=3)).isoformat()])
    assert chosen.exit_code == 0, chosen.output
    assert db.session.scalar(select(PaymentBatch.execution_date)) == today() + timedelta(3)
