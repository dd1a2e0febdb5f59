"""A voucher's money on the pages, through the web client: what the manager sees and
records (advances, payments, reversals, recoveries), what the applicant sees, and every
refusal with its message and nothing changed. The books balance after every step."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.helpers import login, snapshot
from tests.ledger_checks import assert_books_balance
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import BatchItem, PaymentBatch
from vouchers.services import payments, reporting, settlement


@pytest.fixture
def manager(make, client):
    user = make.manager()
    login(client, user)
    return user


def raw(response) -> str:
    return response.get_data(as_text=True)


def text(response_or_html) -> str:
    """The page's words, without tags and with one space between them."""
    source = response_or_html if isinstance(response_or_html, str) else raw(response_or_html)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", source)).split())


def figures(response) -> dict[str, str]:
    """The manager's money figures shown: key -> amount as written."""
    return dict(re.findall(r'data-figure="(\w+)">(€[\d,.]+)', raw(response)))


def ledger_rows(response) -> list[str]:
    """The ledger table's rows as text, in order."""
    source = raw(response)
    table = source[source.index('id="ledger"'):]
    table = table[:table.index("</table>")]
    return [text(row) for row in re.findall(r"<tr data-kind=.*?</tr>", table, re.S)]


def manager_page(client, application):
    return client.get(f"/manage/applications/{application.id}")


def applicant_page(client, application):
    login(client, application.applicant)
    return client.get(f"/apply/applications/{application.id}")


def voucher(make, manager, *, share: str | None = None, amount: str | None = None,
            state: str = "awarded"):
    """A market validation voucher (max 60,000 at 75%), of a call with ``share`` advance."""
    call = make.call()
    if share:
        call.advance_share = Decimal(share)
        db.session.commit()
    return make.application(state, call.voucher_type("market_validation"), manager=manager,
                            amount=amount)


def report(application, costs: str) -> None:
    """The applicant reports ``costs`` and submits the report."""
    applicant = application.applicant
    if application.state == "awarded":
        reporting.start_reporting(application, applicant)
    reporting.save_final_report(application, applicant, summary="Done.", actual_costs=costs)
    reporting.submit_final_report(application, applicant)
    db.session.commit()


def post_action(client, application, action, **fields):
    return client.post(f"/manage/applications/{application.id}/actions/{action}",
                       data={f"{action}-{k}": v for k, v in fields.items()})


def pay(client, application, amount, reference, **fields):
    return post_action(client, application, "record_payment", amount=amount,
                       paid_on=today().isoformat(), reference=reference, **fields)


def reverse(client, application, payment, reason):
    return client.post(
        f"/manage/applications/{application.id}/payments/{payment.id}/reverse",
        data={f"reverse-{payment.id}-reason": reason})


def recover(client, application, amount, reference="BACK-1", received_on=None):
    return client.post(f"/manage/applications/{application.id}/recoveries", data={
        "record_recovery-amount": amount, "record_recovery-reference": reference,
        "record_recovery-received_on": (received_on or today()).isoformat()})


def approve(client, application):
    response = post_action(client, application, "approve_report", comment="")
    assert response.status_code == 303
    db.session.expire_all()


# --- close-out --------------------------------------------------------------------------


def test_close_out_shows_the_release_to_manager_and_the_payable_to_the_applicant(
        client, make, manager):
    application = voucher(make, manager)
    report(application, "40000")  # x 75% = 30,000 payable of the 60,000 awarded

    approve(client, application)

    assert application.state == "completed"
    response = manager_page(client, application)
    assert figures(response) == {
        "awarded": "€60,000.00", "released": "€30,000.00", "committed": "€30,000.00",
        "paid": "€0.00", "outstanding": "€30,000.00", "payable": "€30,000.00",
        "final_due": "€30,000.00"}
    rows = ledger_rows(response)
    assert rows[0].startswith(f"{today():%d %b %Y} Commitment +€60,000.00")
    assert rows[1].startswith(f"{today():%d %b %Y} Release −€30,000.00 Not spent: payable "
                              "€30,000.00 of the €60,000.00 awarded.")
    # The payment form asks for what is due, as a payment (not an advance).
    assert 'name="record_payment-kind" type="hidden" value="payment"' in raw(response)
    assert 'name="record_payment-amount" required type="text" value="30000.00"' in raw(response)
    assert_books_balance()

    page = text(applicant_page(client, application))
    assert "Payable on the approved report €30,000.00" in page
    assert "Final payment to come €30,000.00" in page
    assert "Record payment" not in page and "Reverse" not in page


# --- advances and the final payment -----------------------------------------------------


def test_advance_then_final_payment_of_the_payable_less_the_advance(client, make, manager):
    application = voucher(make, manager, share="0.5")
    response = manager_page(client, application)
    assert figures(response)["advance_due"] == "€30,000.00"
    assert 'name="record_payment-kind" type="hidden" value="advance"' in raw(response)
    assert 'value="30000.00"' in raw(response)
    assert "Kind: Advance" in text(response)

    # Posted without the kind, a payment before the report is the advance.
    response = pay(client, application, "30000.00", "ADV-1")
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == "awarded" and application.paid_amount == Decimal("30000.00")
    assert_books_balance()
    response = manager_page(client, application)
    assert "advance_due" not in figures(response)
    assert 'id="action-record_payment"' not in raw(response)  # nothing more is due now
    assert ledger_rows(response)[-1].startswith(f"{today():%d %b %Y} Advance +€30,000.00 ADV-1")
    page = text(applicant_page(client, application))
    assert f"{today():%d %b %Y} Advance €30,000.00 ADV-1" in page
    assert "Paid €30,000.00 of €60,000.00" in page

    login(client, manager)
    report(application, "60000")  # x 75% = 45,000 payable
    approve(client, application)
    assert application.state == "completed"
    response = manager_page(client, application)
    shown = figures(response)
    assert shown["payable"] == "€45,000.00" and shown["final_due"] == "€15,000.00"
    assert shown["released"] == "€15,000.00"
    assert 'name="record_payment-kind" type="hidden" value="payment"' in raw(response)
    assert 'value="15000.00"' in raw(response)
    assert_books_balance()

    response = pay(client, application, "15000.00", "PAY-1", kind="payment")
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == "paid" and application.paid_amount == Decimal("45000.00")
    assert figures(manager_page(client, application))["outstanding"] == "€0.00"
    assert_books_balance()
    page = text(applicant_page(client, application))
    assert f"{today():%d %b %Y} Payment €15,000.00 PAY-1" in page
    assert "Total paid €45,000.00" in page and "Recovery due" not in page


def test_an_advance_beyond_the_share_or_without_one_is_refused(client, make, manager):
    application = voucher(make, manager, share="0.5")
    before = snapshot()
    response = pay(client, application, "30000.01", "ADV-1")
    assert response.status_code == 422
    assert "€30,000.01 is more than the €30,000.00 advance still due" in text(response)
    assert snapshot() == before

    plain = voucher(make, manager)  # a call without advances
    assert 'id="action-record_payment"' not in raw(manager_page(client, plain))
    before = snapshot()
    response = pay(client, plain, "100", "ADV-2", kind="advance")
    assert response.status_code == 422
    assert snapshot() == before


def test_a_voucher_in_an_open_payment_batch_says_the_batch_pays_it(client, make, manager):
    application = voucher(make, manager, state="completed")
    batch = PaymentBatch(call_id=application.call_id, message_id="MSG-1",
                         execution_date=today(), created_by_id=manager.id)
    batch.items.append(BatchItem(application_id=application.id, kind="payment",
                                 amount=settlement.final_due(application),
                                 iban="NL91ABNA0417164300", account_holder="SME",
                                 remittance=application.reference,
                                 pending_application_id=application.id))
    db.session.add(batch)
    db.session.commit()

    response = manager_page(client, application)
    assert "in a payment batch awaiting execution: the batch pays it" in text(response)
    assert 'id="action-record_payment"' not in raw(response)
    before = snapshot()
    response = pay(client, application, "100", "BANK-1")
    assert response.status_code == 422
    assert "Record payment: This voucher is in a payment batch awaiting execution" in text(
        response)
    assert snapshot() == before


# --- reversals --------------------------------------------------------------------------


def test_reversing_the_payment_of_a_paid_voucher_returns_it_to_completed(client, make, manager):
    application = voucher(make, manager, state="paid")
    [payment] = payments.payments_of(application)

    response = reverse(client, application, payment, "The bank returned the transfer.")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/manage/applications/{application.id}#money-heading")
    db.session.expire_all()
    assert application.state == "completed" and application.paid_amount == Decimal("0.00")
    assert_books_balance()
    response = manager_page(client, application)
    page = text(response)
    assert f"Payment {payment.reference} of €60,000.00 reversed." in page
    assert (f"Reversed on {today():%d %b %Y}: The bank returned the transfer." in page)
    rows = ledger_rows(response)
    assert any(row.startswith(f"{today():%d %b %Y} Payment +€60,000.00 {payment.reference}")
               for row in rows)
    assert rows[-1].startswith(
        f"{today():%d %b %Y} Reversal −€60,000.00 The bank returned the transfer. · "
        f"{payment.reference}")
    # The history shows both: the reversal and the move back to completed.
    history = page[page.index("History"):]
    assert "Reversal (paid) Manager" in history and "Paid → Completed" in history
    assert f'id="reverse-{payment.id}"' not in raw(response)  # reversed once, no form
    assert figures(response)["final_due"] == "€60,000.00"

    # The right payment is recorded again and closes the voucher.
    assert pay(client, application, "60000.00", "BANK-2").status_code == 303
    db.session.expire_all()
    assert application.state == "paid"
    assert_books_balance()

    page = text(applicant_page(client, application))
    assert (f"Reversal of payment {payment.reference}: The bank returned the transfer. "
            f"−€60,000.00") in page
    assert "Total paid €60,000.00" in page


def test_a_reversal_needs_a_reason_and_happens_once(client, make, manager):
    application = voucher(make, manager, state="paid")
    [payment] = payments.payments_of(application)
    before = snapshot()

    response = reverse(client, application, payment, "  ")

    assert response.status_code == 422
    html = raw(response)
    start = html.index(f'id="reverse-{payment.id}"')
    assert start < html.index("Give the reason for the reversal.", start)
    assert snapshot() == before

    assert reverse(client, application, payment, "Wrong amount.").status_code == 303
    before = snapshot()
    response = reverse(client, application, payment, "Again.")
    assert response.status_code == 422
    assert f"Reverse payment {payment.reference}: This payment is already reversed." in text(
        response)
    assert snapshot() == before


def test_a_payment_is_reversed_only_through_its_own_voucher(client, make, manager):
    application = voucher(make, manager, state="paid")
    other = voucher(make, manager, state="paid")
    [payment] = payments.payments_of(application)
    before = snapshot()
    assert reverse(client, other, payment, "Crafted.").status_code == 404
    response = client.post(f"/manage/applications/{application.id}/payments/999999/reverse",
                           data={"reverse-999999-reason": "Nothing."})
    assert response.status_code == 404
    assert snapshot() == before


# --- recoveries -------------------------------------------------------------------------


def test_advances_beyond_the_payable_amount_are_a_recovery_due_until_recorded(
        client, make, manager):
    application = voucher(make, manager, share="0.5")
    assert pay(client, application, "30000.00", "ADV-1").status_code == 303
    report(application, "20000")  # x 75% = 15,000 payable: 15,000 too much was advanced
    approve(client, application)
    assert application.state == "paid"  # the advance covers the payable amount
    assert_books_balance()

    response = manager_page(client, application)
    assert figures(response)["recovery_due"] == "€15,000.00"
    assert 'name="record_recovery-amount" required type="text" value="15000.00"' in raw(
        response)
    page = text(applicant_page(client, application))
    assert ("Recovery due: €15,000.00 — you received more than the approved report makes "
            "payable. Please transfer it back to") in page
    assert f"quoting {application.reference}" in page
    assert "Record recovery" not in page

    login(client, manager)
    dashboard = text(client.get(f"/manage/calls/{application.call_id}/dashboard"))
    assert "1 recovery due" in dashboard
    assert f"{application.reference} {application.organisation.legal_name} Paid €15,000.00" in (
        dashboard)

    response = recover(client, application, "15000.00", "SME-REFUND-7")
    assert response.status_code == 303
    db.session.expire_all()
    assert application.paid_amount == Decimal("15000.00")
    assert settlement.recovery_due(application) == Decimal("0.00")
    assert_books_balance()
    response = manager_page(client, application)
    assert "recovery_due" not in figures(response)
    assert 'id="record_recovery"' not in raw(response)
    # The money came back from the SME, and so returns to the envelope.
    recovery, release = ledger_rows(response)[-2:]
    assert recovery.startswith(f"{today():%d %b %Y} Recovery −€15,000.00 Recovered €15,000.00 "
                               "from the SME. · SME-REFUND-7")
    assert release.startswith(f"{today():%d %b %Y} Release −€15,000.00 Recovered money returns "
                              "to the envelope.")
    page = text(applicant_page(client, application))
    assert "Recovery due" not in page
    assert f"{today():%d %b %Y} Paid back by you −€15,000.00 SME-REFUND-7" in page
    login(client, manager)
    assert "No payment or recovery is due in this call." in text(
        client.get(f"/manage/calls/{application.call_id}/dashboard"))


def test_a_voucher_cancelled_after_an_advance_owes_the_advance_back(client, make, manager):
    application = voucher(make, manager, share="0.5")
    assert pay(client, application, "30000.00", "ADV-1").status_code == 303
    assert post_action(client, application, "cancel",
                       comment="The study was called off.").status_code == 303
    db.session.expire_all()
    assert application.state == "cancelled"
    assert_books_balance()

    assert figures(manager_page(client, application))["recovery_due"] == "€30,000.00"
    programme = application.call.programme
    programme.debtor_name = "Brabant Development Agency"
    programme.debtor_iban = "NL91ABNA0417164300"
    db.session.commit()
    page = text(applicant_page(client, application))
    assert ("Recovery due: €30,000.00 — the voucher was cancelled after money was paid to "
            "you. Please transfer it back to Brabant Development Agency, IBAN "
            f"NL91ABNA0417164300, quoting {application.reference}.") in page

    login(client, manager)
    assert recover(client, application, "10000.00").status_code == 303  # a first part
    db.session.expire_all()
    assert figures(manager_page(client, application))["recovery_due"] == "€20,000.00"
    assert_books_balance()


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "message"), [
    ({"amount": "-5"}, "The amount cannot be negative."),
    ({"amount": "0"}, "Give an amount greater than zero."),
    ({"amount": "60000.01"}, "is more than the €60,000.00 still payable"),
    ({"paid_on": "tomorrow"}, "A payment cannot be dated in the future."),
    ({"reference": " "}, "Give the payment reference"),
    ({"kind": "gift"}, "Record an advance or a payment."),
])
def test_a_bad_payment_is_explained_and_changes_nothing(client, make, manager, fields, message):
    application = voucher(make, manager, state="completed")
    data = {"amount": "100", "paid_on": today().isoformat(), "reference": "BANK-1", **fields}
    if data["paid_on"] == "tomorrow":
        data["paid_on"] = (today() + timedelta(days=1)).isoformat()
    before = snapshot()

    response = post_action(client, application, "record_payment", **data)

    assert response.status_code in (400, 422)
    html = raw(response)
    start = html.index('id="action-record_payment"')
    assert start < html.index(html_lib.escape(message, quote=True), start)
    assert snapshot() == before


@pytest.mark.parametrize(("amount", "received_on", "message"), [
    ("-1", None, "The amount cannot be negative."),
    ("0", None, "Give an amount greater than zero."),
    ("30000.01", None, "€30,000.01 is more than the €30,000.00 due back from the SME."),
    ("100", "tomorrow", "A recovery cannot be dated in the future."),
    ("1,000", None, "with a dot for cents"),
])
def test_a_bad_recovery_is_explained_and_changes_nothing(client, make, manager, amount,
                                                        received_on, message):
    application = voucher(make, manager, share="0.5")
    payments.record_payment(application, manager, "30000", paid_on=today(), reference="ADV-1",
                            kind="advance")
    db.session.commit()
    assert post_action(client, application, "cancel", comment="Given up.").status_code == 303
    before = snapshot()
    if received_on == "tomorrow":
        received_on = today() + timedelta(days=1)

    response = recover(client, application, amount, received_on=received_on)

    assert response.status_code in (400, 422)
    html = raw(response)
    start = html.index('id="record_recovery"')
    assert start < html.index(html_lib.escape(message, quote=True), start)
    assert snapshot() == before


def test_a_recovery_where_nothing_was_paid_is_not_found(client, make, manager):
    application = voucher(make, manager, state="cancelled")
    before = snapshot()
    assert recover(client, application, "1").status_code == 404
    assert snapshot() == before


# --- who sees what ----------------------------------------------------------------------


def test_another_applicant_sees_nothing_of_the_voucher_and_no_one_else_acts(client, make):
    manager = make.manager()
    application = voucher(make, manager, state="paid")
    [payment] = payments.payments_of(application)
    intruder = make.applicant()
    before = snapshot()
    for user in (intruder, application.applicant):
        login(client, user)
        if user is intruder:
            assert client.get(f"/apply/applications/{application.id}").status_code == 404
        assert client.get(f"/manage/applications/{application.id}").status_code == 404
        assert reverse(client, application, payment, "Mine.").status_code == 404
        assert recover(client, application, "1").status_code == 404
        assert pay(client, application, "1", "X").status_code == 404
    assert snapshot() == before
