"""The demo programme shows the money features (issue 9), and its books and workbook add up.

After `flask demo`: the call pays advances; a voucher closed below its award got its
advance, released the rest at approval and had a returned transfer reversed and paid again
to its new account; one advance beyond the costs was recovered, another is still due back;
one voucher closed on zero costs; one SEPA batch was executed, another awaits execution;
every company has valid numbers and an account. The workbook, recalculated by LibreOffice,
gives the counters and the ledger's sums.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from schwifty import BIC, IBAN
from sqlalchemy import func, select
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat

from tests import demo_support
from tests.ledger_checks import assert_books_balance
from tests.test_workbook_libreoffice import SOFFICE, cents, recalculate
from vouchers import identifiers, voucher_types
from vouchers.clock import local_date, today
from vouchers.extensions import db
from vouchers.models import (
    Application,
    AuditRecord,
    BankDetailsChange,
    DeMinimisGrant,
    FinalReport,
    LedgerEntry,
    Organisation,
    Payment,
    PaymentBatch,
    Programme,
)
from vouchers.models.base import utcnow
from vouchers.services import batch_files, dashboard, ledger, payment_batches, settlement
from vouchers.services.workbook import COMMAND_LINE, budget_export

# The module reads one demo programme, loaded once (tests/demo_support.py).
app, demo, _demo_loaded = demo_support.app, demo_support.demo, demo_support.demo_loaded


def _entries(application: Application) -> list[LedgerEntry]:
    return ledger.entries_of(application)


def _kinds(application: Application) -> list[str]:
    return [e.kind for e in _entries(application)]


def _vouchers_with(kind: str) -> list[Application]:
    return list(db.session.scalars(
        select(Application).where(Application.id.in_(
            select(LedgerEntry.application_id).where(LedgerEntry.kind == kind)))
        .order_by(Application.reference)))


def _audit(application: Application) -> list[AuditRecord]:
    return list(db.session.scalars(select(AuditRecord).where(
        AuditRecord.application_id == application.id).order_by(AuditRecord.id)))


def test_the_demo_books_balance_and_its_call_pays_advances_after_the_award(demo):
    assert_books_balance()
    assert demo.advance_share == Decimal("0.40")
    advances = db.session.scalars(select(Payment).where(Payment.kind == "advance")).all()
    assert len(advances) >= 5
    for advance in advances:
        a = advance.application
        assert a.awarded_at < advance.recorded_at
        assert advance.amount == settlement.advance_cap(a)
    # Every kind of movement is on screen somewhere.
    kinds = set(db.session.scalars(select(LedgerEntry.kind)))
    assert kinds == {"commitment", "release", "advance", "payment", "reversal", "recovery"}


def test_a_voucher_closed_below_its_award_after_an_advance_and_a_returned_transfer(demo):
    # The consortium's GBP voucher has a returned advance too (test_demo_consortium).
    (voucher,) = [v for v in _vouchers_with("reversal")
                  if any("account closed" in e.reason for e in _entries(v))]
    assert voucher.state == "paid"
    assert _kinds(voucher) == ["commitment", "advance", "release", "payment", "reversal",
                               "payment"]
    payable = settlement.payable(voucher)
    # The report's eligible costs x rate are below the award: approval released the rest.
    assert payable < voucher.awarded_amount
    _, advance, release, first, reversal, second = _entries(voucher)
    assert -release.committed == voucher.awarded_amount - payable == voucher.released_amount
    assert advance.paid + second.paid == payable == voucher.paid_amount
    assert first.paid == second.paid == -reversal.paid
    assert "account closed" in reversal.reason
    records = _audit(voucher)
    approved = next(r for r in records if r.trigger == "approve_report")
    assert release.at == approved.at
    # Reversing the final payment moved the voucher back to completed; paid again after.
    triggers = [r.trigger for r in records if r.to_state != r.from_state]
    assert triggers[-3:] == ["pay", "reverse_payment", "pay"]
    # The company gave its new account after the transfer came back; a manager confirmed
    # it before the payment was sent again, and the company is paid there from now on.
    change = db.session.scalar(select(BankDetailsChange).where(
        BankDetailsChange.organisation_id == voucher.organisation_id))
    assert change.outcome == "confirmed"
    assert reversal.at < change.requested_at < change.decided_at < second.at
    assert voucher.organisation.iban == change.iban
    # Booked on the days they happened, not on the day the demo was loaded.
    assert reversal.booked_on == local_date(reversal.at) < today()


def test_an_advance_beyond_the_costs_is_recovered_and_another_is_still_due(demo):
    (recovered,) = _vouchers_with("recovery")
    assert recovered.state == "paid"
    assert _kinds(recovered) == ["commitment", "advance", "release", "recovery", "release"]
    _, advance, _, recovery, _ = _entries(recovered)
    assert recovery.reference
    assert -recovery.paid == advance.paid - settlement.payable(recovered)
    assert settlement.recovery_due(recovered) == 0
    assert recovered.paid_amount == recovered.committed_amount == settlement.payable(recovered)

    due = [(a, amount) for a, amount in dashboard.recoveries_due(demo)]
    assert len(due) == 1
    (owing, amount), = due
    assert owing.state in settlement.CLOSED_STATES and owing.id != recovered.id
    assert amount == owing.paid_amount - settlement.payable(owing) > 0
    assert "recovery" not in _kinds(owing)


def test_a_voucher_closed_on_zero_eligible_costs_gives_back_its_money_and_place(demo):
    (voucher,) = db.session.scalars(select(Application).join(FinalReport).where(
        FinalReport.actual_costs == 0))
    assert voucher.state == "paid" and voucher.paid_amount == 0
    assert voucher.released_amount == voucher.awarded_amount
    commitment, release = _entries(voucher)
    assert (release.kind, release.quota, -release.committed) == (
        "release", -1, voucher.awarded_amount)
    assert commitment.quota + release.quota == 0
    assert _audit(voucher)[-1].comment == "Closed: nothing to pay."


def test_one_batch_was_executed_each_payment_once_and_one_awaits_execution(demo):
    executed, waiting = db.session.scalars(select(PaymentBatch).order_by(PaymentBatch.id))
    assert executed.status == "executed" and executed.bank_reference
    assert executed.execution_date == executed.executed_on < today()
    assert len(executed.items) >= 3
    assert {item.kind for item in executed.items} == {"advance", "payment"}
    recorded = Counter(db.session.scalars(select(Payment.batch_item_id).where(
        Payment.batch_item_id.is_not(None))))
    assert recorded == Counter({item.id: 1 for item in executed.items})
    for item in executed.items:
        payment = db.session.scalar(select(Payment).where(Payment.batch_item_id == item.id))
        assert (payment.amount, payment.kind, payment.reference, payment.paid_on) == (
            item.amount, item.kind, executed.bank_reference, executed.executed_on)
        assert item.pending_application_id is None
        assert item.iban == item.application.organisation.iban

    assert waiting.status == "prepared" and waiting.execution_date >= today()
    assert waiting.items
    for item in waiting.items:
        assert item.pending_application_id == item.application_id
        assert settlement.due(item.application) == (item.kind, item.amount)
    # Its SEPA file can be made from the demo's accounts, as often as asked.
    xml = batch_files.sepa_xml(waiting)
    assert batch_files.sepa_xml(waiting) == xml
    for iban in [demo.programme.debtor_iban, *(item.iban for item in waiting.items)]:
        assert iban.encode() in xml
    # Staff prepared and recorded them on working days, well before the demo was loaded.
    for at in (executed.created_at, executed.executed_at, waiting.created_at):
        assert local_date(at).weekday() < 5 and at < utcnow() - timedelta(hours=12)
    # What is due besides stays on the payments-due page.
    assert {d.application.id for d in payment_batches.due_payments(demo)}.isdisjoint(
        {item.application_id for item in waiting.items})


def _valid_vat(number: str) -> bool:
    if number.startswith("GB"):  # outside the EU since 2021
        return gb_vat.is_valid(number)
    return eu_vat.is_valid(number) and eu_vat.compact(number) == number


def test_every_company_has_valid_numbers_and_bank_details(demo):
    organisations = db.session.scalars(select(Organisation)).all()
    with_vouchers = set(db.session.scalars(select(Application.organisation_id).where(
        Application.awarded_amount.is_not(None))))
    assert with_vouchers <= {o.id for o in organisations}
    for org in organisations:
        assert _valid_vat(org.vat_number), org.vat_number
        assert identifiers.vat_number(org.vat_number, org.country) == org.vat_number
        assert identifiers.registry_number(org.registry_number, org.country) == (
            org.registry_number)
        account = IBAN(org.iban, validate_bban=True)
        assert account.compact == org.iban == identifiers.iban(org.iban)
        assert BIC(org.bic).country_code == org.iban[:2] and account.bic == BIC(org.bic)
        assert identifiers.bic(org.bic, org.iban) == org.bic
        assert org.account_holder == org.legal_name
    registry = [o.registry_number for o in organisations]
    assert len(set(registry)) == len(registry)
    programme = db.session.scalar(select(Programme))
    assert programme.granting_authority and programme.debtor_name
    assert identifiers.iban(programme.debtor_iban) == programme.debtor_iban
    assert identifiers.bic(programme.debtor_bic, programme.debtor_iban) == programme.debtor_bic
    # The de minimis register holds each award with the company's VAT number.
    for grant in db.session.scalars(select(DeMinimisGrant)):
        assert grant.vat_number == grant.application.organisation.vat_number
        assert grant.granting_authority == programme.granting_authority


def test_the_demo_ledger_is_dated_as_history(demo):
    now = utcnow()
    entries = db.session.scalars(select(LedgerEntry)).all()
    assert max(e.at for e in entries) < now - timedelta(hours=12)
    assert max(e.booked_on for e in entries) < today()
    batched = set(db.session.scalars(select(Payment.id).where(
        Payment.batch_item_id.is_not(None))))
    for e in entries:
        # A batch's payments are booked on the day the bank executed it, and recorded when
        # its statement was read; everything else is booked on the day it was recorded.
        if e.payment_id in batched and e.kind in ("advance", "payment"):
            assert e.booked_on < local_date(e.at)
        else:
            assert e.booked_on == local_date(e.at), (e.kind, e.application.reference)
        if e.actor_id is not None and e.actor.role == "manager":
            assert local_date(e.at).weekday() < 5


# --- the workbook --------------------------------------------------------------------------


@pytest.fixture
def soffice() -> str:
    if SOFFICE is None:
        reason = "LibreOffice (soffice) not installed"
        if os.environ.get("REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"{reason}, and REQUIRE_LIBREOFFICE=1 says this test must run")
        pytest.skip(reason)
    return SOFFICE


def _header(ws, row: int = 1) -> dict[str, int]:
    return {ws.cell(row, col).value: col for col in range(1, ws.max_column + 1)
            if ws.cell(row, col).value is not None}


@pytest.mark.libreoffice
def test_the_demo_workbook_adds_up(demo, soffice, tmp_path):
    source = tmp_path / "demo.xlsx"
    with budget_export(demo) as export:
        export.write(str(source), generated_by=COMMAND_LINE)
    book = load_workbook(recalculate(soffice, source, tmp_path), data_only=True)
    totals = {t.cvt.label: t for t in ledger.totals(demo.id)}
    assert all(t.matches for t in totals.values())

    ws = book["Summary"]
    head = _header(ws)
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value}
    for label, t in totals.items():
        row = rows[label]

        def value(name, row=row):
            return ws.cell(row, head[name]).value

        assert cents(value("Committed")) == t.cvt.committed == t.committed, label
        assert cents(value("Paid")) == t.cvt.paid == t.paid, label
        assert value("Awarded") == t.cvt.awarded_count == t.quota_used, label
        assert cents(value("Outstanding")) == t.committed - t.paid
        assert cents(value("Remaining envelope")) == t.cvt.envelope - t.committed
    # The totals row's live formulas, as LibreOffice computed them.
    total = rows["Total"]
    assert cents(ws.cell(total, head["Committed"]).value) == sum(
        t.committed for t in totals.values())
    assert cents(ws.cell(total, head["Paid"]).value) == sum(t.paid for t in totals.values())
    assert ws.cell(total, head["Awarded"]).value == sum(t.quota_used for t in totals.values())

    if "Ledger" in book.sheetnames:
        _check_ledger_sheet(book["Ledger"], totals)
    vouchers = book["Vouchers"]
    vhead = _header(vouchers)
    if "Released" in vhead:  # the sheet's money columns of issue 9
        _check_vouchers_sheet(vouchers, vhead, totals)


def _check_ledger_sheet(ws, totals) -> None:
    """Its entries add up to the counters per type, and so do its per-type rows."""
    head = _header(ws)
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    row = 2
    while ws.cell(row, head["Voucher reference"]).value:
        label = ws.cell(row, head["Voucher type"]).value
        sums[label][0] += cents(ws.cell(row, head["Committed change"]).value or 0)
        sums[label][1] += cents(ws.cell(row, head["Paid change"]).value or 0)
        row += 1
    assert row - 2 == db.session.scalar(select(func.count()).select_from(LedgerEntry))
    for label, t in totals.items():
        assert sums[label] == [t.committed, t.paid], label
    by_type = next(r for r in range(row, ws.max_row + 1)
                   if ws.cell(r, 1).value == "Per voucher type")
    by_head = _header(ws, by_type)
    checked = 0
    for r in range(by_type + 1, ws.max_row + 1):
        t = totals.get(ws.cell(r, 1).value)
        if t is None:
            continue
        assert cents(ws.cell(r, by_head["Committed"]).value) == t.committed
        assert cents(ws.cell(r, by_head["Paid"]).value) == t.paid
        if "Agrees with the Summary" in by_head:
            assert ws.cell(r, by_head["Agrees with the Summary"]).value == "Yes"
        checked += 1
    assert checked == len(totals)


def _check_vouchers_sheet(ws, head, totals) -> None:
    """Live vouchers' committed and paid add up to the counters; a paid one owes nothing."""
    labels = {voucher_types.label(k): k for k in voucher_types.LABELS}
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in range(2, ws.max_row + 1):
        label = ws.cell(r, head["Voucher type"]).value
        if label not in labels:
            continue
        sums[label][0] += cents(ws.cell(r, head["Committed"]).value or 0)
        sums[label][1] += cents(ws.cell(r, head["Paid"]).value or 0)
        if ws.cell(r, head["State"]).value in ("paid", "Paid"):
            assert cents(ws.cell(r, head["Outstanding"]).value or 0) == 0
    for label, t in totals.items():
        assert sums[label] == [t.committed, t.paid], label
