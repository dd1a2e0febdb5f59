"""The funder's workbook of a call whose money moved every way the ledger knows.

A closed voucher paid below its award (the rest released), an advance, a payment reversed
and paid again, advances beyond the payable amount partly recovered, and a cancelled
voucher whose advance is still due back. The Vouchers sheet shows awarded, released,
committed, paid, outstanding and the recovery due; the Ledger sheet lists every entry and
its sums are the counters the Summary shows; LibreOffice recalculates the workbook and it
adds up, per type, to the cent.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.ledger_checks import assert_books_balance
from tests.test_workbook_export import check_workbook, data_of, money, rows_of
from tests.test_workbook_libreoffice import recalculate, soffice  # noqa: F401 (fixture)
from vouchers.clock import today
from vouchers.demo import load_demo
from vouchers.extensions import db
from vouchers.models import Application, Call, LedgerEntry, Payment
from vouchers.services import ledger, payments, reporting, settlement, transitions
from vouchers.services.workbook import COMMAND_LINE, WorkbookFilters, budget_export

ZERO = Decimal("0.00")


@dataclass
class Books:
    call: Call
    manager: object
    vouchers: dict[str, Application] = field(default_factory=dict)


def money_scenario(make) -> Books:
    """A call paying 50% advances, with a voucher for each way money moves."""
    call = make.call()
    call.advance_share = Decimal("0.5")
    db.session.commit()
    manager = make.manager()
    tr, mv = call.voucher_type("travel"), call.voucher_type("market_validation")
    books = Books(call, manager)
    v = books.vouchers

    # The travel voucher: awarded 2,960.50, its final report shows 2,890.40.
    v["released"] = make.application("reporting", tr, manager=manager, costs="2960.50",
                                     amount="2960.50")
    report(make, v["released"], manager, "2890.40")
    pay(v["released"], manager, "2890.40", "PAY-REL")

    # Awarded, with half of it paid in advance.
    v["advance"] = make.application("awarded", mv, manager=manager, amount="20000.00")
    pay(v["advance"], manager, "10000.00", "ADV-1", kind="advance")

    # Paid in full, the payment reversed (the bank returned it) and paid again.
    v["reversed"] = make.application("completed", tr, manager=manager, amount="3000.00")
    wrong = pay(v["reversed"], manager, "3000.00", "PAY-WRONG")
    payments.reverse_payment(wrong, manager, "Returned by the bank: wrong IBAN.")
    db.session.commit()
    pay(v["reversed"], manager, "3000.00", "PAY-RIGHT")

    # An advance of 10,000 on 20,000; the report's costs of 8,000 pay 6,000 (75%): 4,000 is
    # due back, and 2,500 of it has come back.
    v["recovery"] = make.application("awarded", mv, manager=manager, amount="20000.00",
                                     costs="26666.67")
    pay(v["recovery"], manager, "10000.00", "ADV-2", kind="advance")
    make.step(v["recovery"], "start_reporting", applicant=v["recovery"].applicant,
              manager=manager)
    report(make, v["recovery"], manager, "8000.00")
    payments.record_recovery(v["recovery"], manager, "2500.00", received_on=today(),
                             reference="BACK-1")
    db.session.commit()

    # Cancelled after an advance of 5,000, which stays committed until it comes back.
    v["cancelled"] = make.application("awarded", mv, manager=manager, amount="10000.00")
    pay(v["cancelled"], manager, "5000.00", "ADV-3", kind="advance")
    transitions.cancel(v["cancelled"], manager, "The company gave the project up.")
    db.session.commit()
    assert_books_balance()
    return books


def report(make, application, manager, actual_costs: str) -> None:
    """The final report with these actual costs, submitted and approved."""
    reporting.save_final_report(application, application.applicant, summary="Done.",
                                actual_costs=actual_costs)
    for step in ("submit_report", "approve_report"):
        make.step(application, step, applicant=application.applicant, manager=manager)


def pay(application, manager, amount, reference, kind="payment") -> Payment:
    payment = payments.record_payment(application, manager, amount, paid_on=today(),
                                      reference=reference, kind=kind)
    db.session.commit()
    return payment


@pytest.fixture
def books(make) -> Books:
    return money_scenario(make)


def export(call, target=None, filters=None):
    buffer = target or io.BytesIO()
    with budget_export(call, filters) as e:
        e.write(buffer, generated_by=COMMAND_LINE)
    if target is None:
        buffer.seek(0)
        return load_workbook(buffer)
    return None


# --------------------------------------------------------------------------- the sheets


def test_the_scenario_moved_money_every_way(books):
    v = books.vouchers
    states = {name: a.state for name, a in v.items()}
    assert states == {"released": "paid", "advance": "awarded", "reversed": "paid",
                      "recovery": "paid", "cancelled": "cancelled"}
    kinds = {e.kind for e in db.session.scalars(select(LedgerEntry))}
    assert kinds == {"commitment", "release", "advance", "payment", "reversal", "recovery"}


def test_vouchers_sheet_shows_awarded_released_paid_outstanding_and_recovery(books):
    wb = export(books.call)
    check_workbook(wb, books.call)  # every figure, as for any call
    rows = {r[0]: r for r in data_of(wb["Vouchers"])}
    expected = {
        # awarded, released, paid, outstanding, recovery due, state
        "released": ("2960.50", "70.10", "2890.40", "0.00", "0.00", "Paid"),
        "advance": ("20000.00", "0.00", "10000.00", "10000.00", "0.00", "Awarded"),
        "reversed": ("3000.00", "0.00", "3000.00", "0.00", "0.00", "Paid"),
        "recovery": ("20000.00", "12500.00", "7500.00", "0.00", "1500.00", "Paid"),
        "cancelled": ("10000.00", "5000.00", "5000.00", "0.00", "5000.00", "Cancelled"),
    }
    for name, (awarded, released, paid, outstanding, due, state) in expected.items():
        a = books.vouchers[name]
        row = rows[a.reference]
        assert [money(row[c]) for c in (9, 10, 12, 13, 14)] == [
            Decimal(awarded), Decimal(released), Decimal(paid), Decimal(outstanding),
            Decimal(due)], name
        assert row[16] == state, name
        assert money(row[14]) == settlement.recovery_due(a), name
    # A paid voucher has nothing outstanding: close-out released what was not spent.
    assert all(money(r[13]) == ZERO for r in rows.values() if r[16] == "Paid")


def test_ledger_sheet_lists_every_entry_and_its_sums_are_the_counters(books):
    wb = export(books.call)
    entries = list(db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)))
    rows = data_of(wb["Ledger"], len(entries))
    by_voucher: dict[str, list[str]] = {}
    for r in rows:
        by_voucher.setdefault(r[1], []).append(r[4])
    v = books.vouchers
    assert by_voucher[v["released"].reference] == ["Commitment", "Release", "Payment"]
    assert by_voucher[v["reversed"].reference] == ["Commitment", "Payment", "Reversal",
                                                   "Payment"]
    assert by_voucher[v["recovery"].reference] == ["Commitment", "Advance", "Release",
                                                   "Recovery", "Release"]
    assert by_voucher[v["cancelled"].reference] == ["Commitment", "Advance", "Release"]
    reversal = next(r for r in rows if r[4] == "Reversal")
    assert (money(reversal[6]), reversal[8], reversal[9]) == (
        Decimal("-3000.00"), "Returned by the bank: wrong IBAN.", "PAY-WRONG")
    assert reversal[10] == books.manager.name

    for totals in ledger.totals(books.call.id):
        label = totals.cvt.label
        of_type = [r for r in rows if r[3] == label]
        assert sum((money(r[5]) for r in of_type), ZERO) == totals.cvt.committed, label
        assert sum((money(r[6]) for r in of_type), ZERO) == totals.cvt.paid, label
        assert sum(r[7] for r in of_type) == totals.cvt.awarded_count, label


def test_payments_sheet_shows_the_kind_and_the_reversal(books):
    wb = export(books.call)
    rows = {r[5]: r for r in rows_of(wb["Payments"])}
    assert {ref: (r[3], r[6]) for ref, r in rows.items()} == {
        "PAY-REL": ("Payment", "No"), "ADV-1": ("Advance", "No"),
        "PAY-WRONG": ("Payment", "Yes"), "PAY-RIGHT": ("Payment", "No"),
        "ADV-2": ("Advance", "No"), "ADV-3": ("Advance", "No"),
    }
    declared = [r[2] for r in rows_of(wb["List of expenditure"])]
    # Five payments stayed with the SMEs, and one recovery corrects an advance.
    assert "PAY-WRONG" not in str(declared) and len(declared) == 6


def test_de_minimis_register_shows_the_aid_after_close_out(books):
    wb = export(books.call)
    rows = {r[9]: r for r in data_of(wb["De minimis"])}
    for a in books.vouchers.values():
        row = rows[a.reference]
        assert money(row[6]) == a.awarded_amount
        assert money(row[7]) == a.awarded_amount - a.released_amount
        assert row[8] == "Commission Regulation (EU) 2023/2831"
    assert money(rows[books.vouchers["released"].reference][7]) == Decimal("2890.40")


def test_the_progress_bar_counts_the_ledger_and_leaves_out_reversed_expenditure(books):
    seen = []
    with budget_export(books.call) as e:
        expected = e.row_count()
        written = e.write(io.BytesIO(), generated_by=COMMAND_LINE, progress=seen.append)
    entries = db.session.scalar(select(db.func.count()).select_from(LedgerEntry))
    # 4 types, 5 applications, 5 vouchers, the entries, 5 grants, 6 payments, 5 declared
    # and 1 recovery.
    assert seen[-1] == written == expected == 4 + 5 + 5 + entries + 5 + 6 + 5 + 1


def test_narrowed_by_award_date_the_ledger_is_not_compared_with_the_summary(books):
    day = today()
    wb = export(books.call, filters=WorkbookFilters(awarded_from=day, awarded_to=day))
    check_workbook(wb, books.call, WorkbookFilters(awarded_from=day, awarded_to=day))


# ------------------------------------------------------------------------- LibreOffice


def _cents(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.mark.libreoffice
def test_libreoffice_recalculates_a_workbook_that_adds_up(books, soffice, tmp_path):  # noqa: F811
    source = tmp_path / "book.xlsx"
    export(books.call, str(source))
    wb = load_workbook(recalculate(soffice, source, tmp_path), data_only=True)
    types = books.call.voucher_types

    summary = {r[0]: r for r in rows_of(wb["Summary"])}
    entries = db.session.scalar(select(db.func.count()).select_from(LedgerEntry))
    ledger_rows = rows_of(wb["Ledger"])
    entry_rows, ledger_total = ledger_rows[:entries], ledger_rows[entries]
    by_type = {r[0]: r for r in ledger_rows[entries + 3:]}
    for t in types:
        s = summary[t.label]
        of_type = [r for r in entry_rows if r[3] == t.label]
        ledger_committed = sum((_cents(r[5]) for r in of_type), ZERO)
        ledger_paid = sum((_cents(r[6]) for r in of_type), ZERO)
        # Per type: the Summary's committed and paid are the ledger's sums; remaining is
        # the envelope less committed; the counters say the same.
        assert _cents(s[5]) == ledger_committed == t.committed, t.label
        assert _cents(s[6]) == ledger_paid == t.paid, t.label
        assert _cents(s[8]) == t.envelope - ledger_committed, t.label
        assert s[4] == sum(r[7] for r in of_type) == t.awarded_count, t.label
        # The sheet's own sums per type, as LibreOffice computed them, agree.
        row = by_type[t.label]
        assert (_cents(row[5]), _cents(row[6]), row[7]) == (ledger_committed, ledger_paid,
                                                             t.awarded_count)
        assert row[11] == "Yes", t.label

    total = summary["Total"]
    assert _cents(ledger_total[5]) == _cents(total[5]) == sum((t.committed for t in types), ZERO)
    assert _cents(ledger_total[6]) == _cents(total[6])

    # Vouchers: committed recomputed as awarded - released, and the totals row equals the
    # Summary's committed, paid and outstanding.
    vouchers = rows_of(wb["Vouchers"])
    listed, voucher_total = vouchers[:-1], vouchers[-1]
    for r in listed:
        a = db.session.scalar(select(Application).where(Application.reference == r[0]))
        assert _cents(r[11]) == a.committed_amount, a.reference
        assert _cents(r[11]) - _cents(r[12]) == _cents(r[13]), a.reference
    assert voucher_total[0] == "Total"
    assert _cents(voucher_total[11]) == _cents(total[5])
    assert _cents(voucher_total[12]) == _cents(total[6])
    assert _cents(voucher_total[13]) == _cents(total[7])
    assert _cents(voucher_total[14]) == sum(
        (settlement.recovery_due(a) for a in books.vouchers.values()), ZERO) == Decimal(
        "6500.00")


def _adds_up(wb, call: Call) -> None:
    """The recalculated workbook of ``call``: the Ledger's sums per type agree with the
    Summary, and the Vouchers' totals are the Summary's."""
    summary = rows_of(wb["Summary"])
    total = summary[len(call.voucher_types)]
    assert total[0] == "Total"
    ledger_rows = rows_of(wb["Ledger"])
    by_type = ledger_rows[-len(call.voucher_types):]
    assert [r[0] for r in by_type] == [t.label for t in call.voucher_types]
    assert [r[11] for r in by_type] == ["Yes"] * len(call.voucher_types)
    voucher_total = rows_of(wb["Vouchers"])[-1]
    assert [_cents(voucher_total[c]) for c in (11, 12, 13)] == [
        _cents(total[c]) for c in (5, 6, 7)]


@pytest.mark.libreoffice
def test_the_demo_programmes_workbook_adds_up(app, soffice, tmp_path):  # noqa: F811
    load_demo()
    db.session.commit()
    assert_books_balance()
    # The demo tells every movement of money, so its workbook shows each of them.
    kinds = set(db.session.scalars(select(LedgerEntry.kind).distinct()))
    assert {"commitment", "release", "advance", "payment", "reversal", "recovery"} <= kinds
    for call in db.session.scalars(select(Call).order_by(Call.id)):
        source = tmp_path / f"{call.id}.xlsx"
        export(call, str(source))
        wb = load_workbook(recalculate(soffice, source, tmp_path), data_only=True)
        _adds_up(wb, call)
