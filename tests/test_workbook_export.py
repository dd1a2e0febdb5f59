"""The funder's workbook exported from the database, checked figure by figure against it.

The same checker reads a workbook made through the service, the manager's download and
the command line. It recomputes every expected figure from the ORM objects in plain Python,
independently of the export's SQL: counts, committed, paid and outstanding per type, each
voucher, application, payment and de minimis row, and the totals formulas.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from flask import current_app
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from exports.sheets.common import utc_naive
from tests.helpers import login
from tests.jobs_support import post_and_download
from vouchers.clock import local_date, today
from vouchers.extensions import db
from vouchers.models import (
    VOUCHER_TYPE_LABELS,
    AidDeclaration,
    Application,
    Call,
    DeMinimisGrant,
    FinalReport,
    Job,
    LedgerEntry,
    Payment,
)
from vouchers.models.base import utcnow
from vouchers.models.ledger import KIND_LABELS
from vouchers.services import payments, settlement, transitions
from vouchers.services.budget import counts_on
from vouchers.services.dashboard import call_dashboard, call_summaries
from vouchers.services.errors import InvalidInput
from vouchers.services.undertaking import standing_of
from vouchers.services.workbook import (
    COMMAND_LINE,
    XLSX_MIMETYPE,
    WorkbookFilters,
    budget_export,
    generated_by,
    workbook_filename,
)
from workflows.lifecycle import STATE_LABELS, VOUCHER_STATES

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
REPORT_LABELS = {"draft": "Draft", "submitted": "Submitted", "returned": "Returned",
                 "approved": "Approved"}




def money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(CENT)


def day(value) -> date | None:
    return value.date() if isinstance(value, datetime) else value


# ------------------------------------------------------------------------------ scenario


@dataclass
class Scenario:
    call: Call
    manager: object
    apps: dict[str, Application] = field(default_factory=dict)


def pay(application, manager, amount, *, paid_on, reference, invoice_number="",
        invoice_date=None):
    payment = payments.record_payment(application, manager, amount, paid_on=paid_on,
                                 reference=reference, invoice_number=invoice_number,
                                 invoice_date=invoice_date)
    db.session.commit()
    return payment


def award_at(make, cvt, manager, amount, at, *, applicant=None):
    """A voucher awarded at ``at`` (through the service, as in real use)."""
    application = make.application("under_review", cvt, applicant=applicant, manager=manager)
    transitions.award(application, manager, amount, now=at)
    db.session.commit()
    return application


@pytest.fixture
def scenario(make) -> Scenario:
    call = make.call()
    manager = make.manager()
    mv = call.voucher_type("market_validation")
    tr = call.voucher_type("travel")
    pv = call.voucher_type("product_validation")
    s = Scenario(call=call, manager=manager)
    # One undertaking with aid declared before and vouchers in this call and another.
    repeat = make.applicant(declared="150000.00")
    # Aid granted three years and a day ago no longer counts (10 years back is safe from
    # the 29th of February).
    repeat.organisation.aid_declarations.append(AidDeclaration(
        granting_body="Old regional grant", amount=Decimal("99999.00"),
        granted_on=today() - timedelta(days=3653)))
    db.session.commit()

    def add(name, state, cvt, amount=None, **kwargs):
        s.apps[name] = make.application(state, cvt, manager=manager, amount=amount, **kwargs)

    add("paid", "paid", mv, "30000.01")
    add("awarded", "awarded", mv, "12345.67", applicant=repeat)
    add("reporting", "reporting", mv, "20000.50")
    add("report_submitted", "report_submitted", mv, "15000.25")
    add("completed", "completed", mv, "40000.99")
    add("cancelled", "cancelled", mv, "10000.00")
    for state in ("rejected", "waitlisted", "submitted", "under_review", "withdrawn",
                  "returned", "draft"):
        add(state, state, mv)
    add("travel_awarded", "awarded", tr, "4999.99")
    add("travel_paid", "paid", tr, "2500.10", applicant=repeat, costs="2500.10")
    add("pv_submitted", "submitted", pv)
    add("pv_draft", "draft", pv)
    # A part payment leaves the completed voucher open, with money outstanding.
    pay(s.apps["completed"], manager, "1234.56", paid_on=today(),
        reference="PAY-PART-1", invoice_number="INV-2026-17", invoice_date=date(2026, 4, 30))

    other = make.call()
    other.max_applications_per_type = None  # the repeat SME applies twice there
    db.session.commit()
    omv = other.voucher_type("market_validation")
    award_at(make, omv, manager, "20000.00", utcnow() - timedelta(days=400), applicant=repeat)
    award_at(make, omv, manager, "25000.00", utcnow() - timedelta(days=1200), applicant=repeat)
    return s


# ------------------------------------------------------------------------------- checker


def rows_of(ws) -> list[list]:
    return [[cell.value for cell in row] for row in ws.iter_rows(min_row=2)]


def data_of(ws, n: int | None = None) -> list[list]:
    """The data rows of a list with a totals row under it (the first ``n`` rows)."""
    rows = rows_of(ws)
    if n is None:
        n = next(i for i, r in enumerate(rows) if r[0] == "Total")
    return rows[:n]


def header_of(ws) -> list:
    return [cell.value for cell in next(ws.iter_rows(max_row=1))]


def naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def check_totals(row: list, first: int, last: int, letters: str, where: str) -> None:
    assert row[0] == "Total", where
    for letter in letters:
        value = row[ord(letter) - ord("A")]
        assert value == (f"=SUM({letter}{first}:{letter}{last})" if last >= first else 0), where


def check_workbook(wb, call: Call, filters: WorkbookFilters | None = None, *,
                   generated: str = COMMAND_LINE) -> dict:
    """Assert every figure of ``wb`` against the database; return a few for the caller."""
    filters = filters or WorkbookFilters()
    db.session.expire_all()
    types = [t for t in call.voucher_types
             if not filters.voucher_types or t.voucher_type in filters.voucher_types]
    apps = [a for a in db.session.scalars(
        select(Application).where(Application.call_id == call.id).order_by(Application.reference)
    ) if a.voucher_type in {t.voucher_type for t in types}]

    def in_range(a: Application) -> bool:
        d = local_date(a.awarded_at)
        return ((filters.awarded_from is None or d >= filters.awarded_from)
                and (filters.awarded_to is None or d <= filters.awarded_to))

    # Every voucher awarded, a cancelled one too: its award and release are in the ledger.
    awarded_all = [a for a in apps if a.awarded_at is not None
                   and (a.state in VOUCHER_STATES or a.state == "cancelled")]
    vouchers = [a for a in awarded_all if in_range(a)]
    ids = {a.id for a in vouchers}
    payments = sorted(
        (p for p in db.session.scalars(select(Payment)) if p.application_id in ids),
        key=lambda p: (p.paid_on, p.id),
    )
    entries = [e for e in db.session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))
               if e.application_id in ids]
    reversed_ids = {e.payment_id for e in entries if e.kind == "reversal"}
    # A voucher's counters are its ledger entries, to the cent.
    for a in awarded_all:
        own = [e for e in db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.application_id == a.id))]
        assert a.paid_amount == sum((e.paid for e in own), ZERO)
        assert a.committed_amount == sum((e.committed for e in own), ZERO)

    # Summary: one row per type, the counters (the ledger's sums), then the totals.
    summary = wb["Summary"]
    assert header_of(summary) == [
        "Voucher type", "Quota", "Applications received", "Drafts (not received)", "Awarded",
        "Committed",
        "Paid", "Outstanding", "Remaining envelope", "Remaining quota", "Funding rate"]
    rows = rows_of(summary)
    assert len(rows) == len(types) + 1
    totals = {"committed": ZERO, "paid": ZERO, "count": 0, "applications": 0}
    for row, t in zip(rows, types, strict=False):
        of_type = [a for a in apps if a.voucher_type == t.voucher_type]
        held = [a for a in awarded_all if a.voucher_type == t.voucher_type]
        committed = sum((a.committed_amount for a in held), ZERO)
        paid = sum((a.paid_amount for a in held), ZERO)
        # The counters agree with the vouchers (and so with the ledger).
        assert (committed, paid) == (t.committed, t.paid)
        assert row[0] == t.label
        # Received: submitted, drafts never (the dashboard counts the same way).
        received = [a for a in of_type if a.submitted_at is not None and a.state != "draft"]
        assert row[1:5] == [t.quota, len(received),
                            sum(1 for a in of_type if a.state == "draft"), t.awarded_count]
        assert [money(v) for v in row[5:9]] == [committed, paid, committed - paid,
                                                 t.envelope - committed]
        assert row[9] == t.quota - t.awarded_count
        assert Decimal(str(row[10])) == t.funding_rate
        totals["committed"] += committed
        totals["paid"] += paid
        totals["count"] += t.awarded_count
        totals["applications"] += len(of_type)
    last = len(types) + 1
    assert rows[-1][0] == "Total"
    assert rows[-1][1:10] == [f"=SUM({c}2:{c}{last})" for c in "BCDEFGHIJ"]
    assert rows[-1][10] is None
    assert summary.freeze_panes == "A2"
    assert summary.page_setup.fitToHeight == 1 and summary.page_setup.orientation == "landscape"

    # Vouchers: one row per voucher awarded, by reference, then the totals.
    ws = wb["Vouchers"]
    expected = []
    for n, a in enumerate(vouchers, 2):
        report = db.session.scalar(select(FinalReport).where(FinalReport.application_id == a.id))
        expected.append([
            a.reference, a.organisation.legal_name, a.organisation.registry_number,
            a.organisation.country, a.organisation.region, VOUCHER_TYPE_LABELS[a.voucher_type],
            a.provider.name if a.provider else None, a.title, a.requested_amount,
            a.awarded_amount, a.released_amount, f"=J{n}-K{n}", a.paid_amount,
            a.committed_amount - a.paid_amount, settlement.recovery_due(a),
            local_date(a.awarded_at), STATE_LABELS[a.state],
            REPORT_LABELS[report.status] if report else None,
        ])
        if a.state == "paid":
            assert a.committed_amount - a.paid_amount == ZERO, a.reference
    got = [[*r[:8], *map(money, r[8:11]), r[11], *map(money, r[12:15]), day(r[15]), *r[16:]]
           for r in data_of(ws, len(vouchers))]
    assert got == expected
    check_totals(rows_of(ws)[len(vouchers)], 2, len(vouchers) + 1, "IJKLMNO", "Vouchers")
    assert len(rows_of(ws)) == len(vouchers) + 1

    # Ledger: every entry of those vouchers in booking order, totals, sums per type.
    ws = wb["Ledger"]
    expected = [[
        e.booked_on, e.application.reference, e.application.organisation.legal_name,
        VOUCHER_TYPE_LABELS[e.application.voucher_type], KIND_LABELS[e.kind], e.committed,
        e.paid, e.quota, e.reason or None, e.reference or None,
        e.actor.name if e.actor else None, naive(e.at),
    ] for e in entries]
    ledger_rows = rows_of(ws)
    got = [[day(r[0]), *r[1:5], money(r[5]), money(r[6]), *r[7:11], r[11]]
           for r in ledger_rows[:len(entries)]]
    # The sheet shows the audit time to the second, never a second later.
    assert got == [[*e[:11], e[11].replace(microsecond=0)] for e in expected]
    check_totals(ledger_rows[len(entries)], 2, len(entries) + 1, "FGH", "Ledger")
    by_type = ledger_rows[len(entries) + 3:]
    assert ledger_rows[len(entries) + 2][0] == "Per voucher type"
    assert [r[0] for r in by_type] == [t.label for t in types]
    # Compared with the Summary only when the ledger holds the whole of it.
    compared = [r[8] for r in by_type]
    if filters.has_dates:
        assert compared == [None] * len(types)
    else:
        assert compared == [f"='Summary'!F{i}" for i in range(2, len(types) + 2)]

    # Payments (advances and payments, reversed ones marked), and those that stayed with
    # the SME in the Jems list of expenditure.
    got = rows_of(wb["Payments"])
    assert [[day(r[0]), *r[1:4], money(r[4]), *r[5:]] for r in got] == [
        [p.paid_on, p.application.reference, p.application.organisation.legal_name,
         KIND_LABELS[p.kind], p.amount, p.reference,
         "Yes" if p.id in reversed_ids else "No"] for p in payments]
    got = rows_of(wb["List of expenditure"])
    expected = []
    for n, p in enumerate([p for p in payments if p.id not in reversed_ids], 1):
        a = p.application
        description = f"Voucher {a.reference}: {a.title}"
        if a.provider:
            description += f" ({a.provider.name})"
        expected.append([n, "External expertise and services", a.reference,
                         p.invoice_number or None, p.invoice_date, p.paid_on, description,
                         p.amount, ZERO, p.amount, "EUR", Decimal("1"), p.amount])
    # Then each recovery, a negative correction: the list adds up to what the SMEs kept.
    recoveries = sorted((e for e in entries if e.kind == "recovery"),
                        key=lambda e: (e.booked_on, e.id))
    for n, e in enumerate(recoveries, len(expected) + 1):
        ref = e.application.reference
        expected.append([n, "External expertise and services", ref, None, None, e.booked_on,
                         f"Voucher {ref}: advance paid back by the SME ({e.reference})",
                         e.paid, ZERO, e.paid, "EUR", Decimal("1"), e.paid])
    assert sum((r[9] for r in expected), ZERO) == sum(
        (e.paid for e in entries if e.kind != "commitment"), ZERO)
    assert [[r[0], r[1], r[2], r[3], day(r[4]), day(r[5]), r[6], money(r[7]), money(r[8]),
             money(r[9]), r[10], Decimal(str(r[11])), money(r[12])] for r in got] == expected

    # De minimis: the register's row of each award, with the undertaking's rolling total.
    every_live = list(db.session.scalars(
        select(Application).where(Application.state.in_(VOUCHER_STATES))))
    grants = sorted((g for g in db.session.scalars(select(DeMinimisGrant))
                     if g.application_id in ids),
                    key=lambda g: (g.granted_on, g.application.awarded_at, g.application_id))
    assert len(grants) == len(vouchers)  # every award is in the register
    expected = []
    for g in grants:
        a, org = g.application, g.application.organisation
        award_day = local_date(a.awarded_at)
        assert g.granted_on == award_day
        declared = sum((d.amount for d in org.aid_declarations
                        if counts_on(d.granted_on, award_day)), ZERO)
        received = sum((b.committed_amount for b in every_live
                        if b.organisation_id == org.id
                        and counts_on(local_date(b.awarded_at), award_day)
                        and (b.awarded_at, b.id) <= (a.awarded_at, a.id)), ZERO)
        expected.append([g.undertaking, g.country, g.vat_number or None, g.registry_number,
                         g.granting_authority, award_day, g.amount, a.committed_amount,
                         "Commission Regulation (EU) 2023/2831", a.reference, declared,
                         declared + received])
    got = data_of(wb["De minimis"], len(grants))
    assert [[*r[:5], day(r[5]), money(r[6]), money(r[7]), *r[8:10], *map(money, r[10:])]
            for r in got] == expected
    check_totals(rows_of(wb["De minimis"])[len(grants)], 2, len(grants) + 1, "GH",
                 "De minimis")

    # About: where the figures come from.
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows()}
    programme = call.programme
    assert about["Programme"] == programme.name
    assert about["Funder"] == programme.funder
    assert about["Call"] == f"{call.code} – {call.title}"
    assert about["Generated by"] == generated
    assert abs(about["Generated at (UTC)"] - utcnow().replace(tzinfo=None)) < timedelta(
        minutes=5)
    filter_lines = {k[len("Filter: "):]: v for k, v in about.items()
                    if k.startswith("Filter: ")}
    if filters == WorkbookFilters():
        assert about["Filters"] == "none" and not filter_lines
    else:
        assert filter_lines == dict(filters.describe(current_app.config["PROGRAMME_TIMEZONE"]))
    assert wb.properties.creator == generated

    totals["vouchers"] = len(vouchers)
    totals["payments"] = len(payments)
    return totals


# ---------------------------------------------------------------------------- the service


def export(call, filters=None, *, by=COMMAND_LINE):
    buffer = io.BytesIO()
    with budget_export(call, filters) as e:
        rows = e.write(buffer, generated_by=by)
    buffer.seek(0)
    return load_workbook(buffer), rows


def test_every_figure_matches_the_database(scenario):
    wb, rows = export(scenario.call)

    totals = check_workbook(wb, scenario.call)

    # The figures the scenario was built to give, so the checker cannot drift with the code.
    tr, mv, pv, im = rows_of(wb["Summary"])[:4]
    assert [money(v) for v in mv[5:8]] == [Decimal("117347.42"), Decimal("31234.57"),
                                           Decimal("86112.85")]
    assert mv[2:5] == [12, 1, 5]  # received (drafts not), drafts, live vouchers
    assert [money(v) for v in tr[5:8]] == [Decimal("7500.09"), Decimal("2500.10"),
                                           Decimal("4999.99")]
    assert pv[2:5] == [1, 1, 0] and im[2:5] == [0, 0, 0] and money(im[5]) == ZERO
    assert totals["vouchers"] == 8 and totals["payments"] == 3
    # The cancelled voucher is listed with its award given back in full: it holds nothing.
    cancelled = scenario.apps["cancelled"]
    row = {r[0]: r for r in rows_of(wb["Vouchers"])}[cancelled.reference]
    assert [money(v) for v in (row[9], row[10], row[12], row[13])] == [
        Decimal("10000.00"), Decimal("10000.00"), ZERO, ZERO]
    assert row[16] == "Cancelled"
    kinds = [r[4] for r in rows_of(wb["Ledger"]) if r[1] == cancelled.reference]
    assert kinds == ["Commitment", "Release"]
    app_rows = {r[0]: r for r in rows_of(wb["Applications"])}
    assert app_rows[cancelled.reference][5] == "Cancelled"
    assert app_rows[scenario.apps["rejected"].reference][9] == "Rejected: Not selected."
    # Rows written: 4 summaries + 17 applications + 8 vouchers + 12 ledger entries (8
    # awards, 3 payments, the cancellation's release) + 8 grants + 3 payments twice.
    assert rows == ROWS_WRITTEN == 4 + 17 + 8 + 12 + 8 + 2 * 3


ROWS_WRITTEN = 55


def test_dashboard_and_workbook_show_the_same_figures(scenario):
    wb, _ = export(scenario.call)
    board = call_dashboard(scenario.call)
    sheet = {r[0]: r for r in rows_of(wb["Summary"])}
    for t in board.types:
        row = sheet[t.label]
        assert row[2] == t.received  # applications received, drafts not counted
        assert row[4] == t.awarded
        assert [money(v) for v in row[5:9]] == [t.committed, t.paid, t.outstanding,
                                                 t.remaining_envelope]
        assert row[9] == t.remaining_quota
    overview = {s.call.id: s for s in call_summaries(utcnow())}[scenario.call.id]
    assert overview.applications == board.submitted_total == 15
    assert overview.committed == board.total("committed") == Decimal("124847.51")


def test_de_minimis_totals_count_aid_from_other_calls_within_three_years(scenario):
    wb, _ = export(scenario.call)
    repeat = scenario.apps["awarded"].organisation
    rows = [r for r in rows_of(wb["De minimis"]) if r[0] == repeat.legal_name]
    # Declared 150,000; 20,000 from another call 400 days ago counts, 25,000 from 1,200
    # days ago does not; then the market validation and the travel voucher of this call.
    assert [money(r[11]) for r in rows] == [Decimal("182345.67"), Decimal("184845.77")]
    latest = scenario.apps["travel_paid"]
    assert money(rows[-1][11]) == standing_of(repeat.id, latest.call,
                                              latest.awarded_at).de_minimis


def test_row_count_announces_the_rows_the_progress_callback_reports(scenario):
    seen = []
    with budget_export(scenario.call) as e:
        expected = e.row_count()
        written = e.write(io.BytesIO(), generated_by=COMMAND_LINE, progress=seen.append)
    assert seen[-1] == written == expected


def test_type_filter_restricts_every_sheet_and_is_listed(scenario):
    filters = WorkbookFilters(voucher_types=("travel",))
    wb, _ = export(scenario.call, filters)

    check_workbook(wb, scenario.call, filters)
    assert [r[0] for r in rows_of(wb["Summary"])] == ["Travel", "Total"]
    assert {r[5] for r in data_of(wb["Vouchers"])} == {"Travel"}
    assert {r[3] for r in data_of(wb["Ledger"])} == {"Travel"}
    assert len(rows_of(wb["Applications"])) == 2
    assert [r[1] for r in rows_of(wb["Payments"])] == [scenario.apps["travel_paid"].reference]
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows()}
    assert about["Filter: Voucher types"] == "Travel"


def test_award_date_filter_restricts_vouchers_payments_and_de_minimis(make):
    call = make.call()
    manager = make.manager()
    mv = call.voucher_type("market_validation")
    january = award_at(make, mv, manager, "1000.00", datetime(2026, 1, 15, 10, tzinfo=UTC))
    february = award_at(make, mv, manager, "2000.00", datetime(2026, 2, 10, 12, tzinfo=UTC))
    # 22:30 UTC on 31 March is 00:30 on 1 April in Brussels: it counts as an April award.
    april = award_at(make, mv, manager, "3000.00", datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    for a in (january, february):
        for step in ("start_reporting", "save_report", "submit_report", "approve_report"):
            make.step(a, step, applicant=a.applicant, manager=manager)
        pay(a, manager, "500.00", paid_on=today(), reference=f"P-{a.id}")
    make.application("rejected", mv, manager=manager)

    filters = WorkbookFilters(awarded_from=date(2026, 2, 1), awarded_to=date(2026, 3, 31))
    wb, _ = export(call, filters)

    check_workbook(wb, call, filters)
    assert [r[0] for r in data_of(wb["Vouchers"])] == [february.reference]
    assert {r[1] for r in data_of(wb["Ledger"])} == {february.reference}
    assert [r[1] for r in rows_of(wb["Payments"])] == [february.reference]
    assert [money(r[6]) for r in data_of(wb["De minimis"])] == [Decimal("2000.00")]
    # The summary and the applications still describe the whole call.
    summary = rows_of(wb["Summary"])[1]
    assert summary[4] == 3 and money(summary[5]) == Decimal("6000.00")
    assert len(rows_of(wb["Applications"])) == 4
    about = {r[0].value: r[1].value for r in wb["About"].iter_rows()}
    assert about["Filter: Awarded from"] == "2026-02-01"
    assert about["Filter: Awarded to"] == "2026-03-31"
    assert "not Summary or Applications" in about["Filter: Award dates"]

    wb, _ = export(call, WorkbookFilters(awarded_from=date(2026, 4, 1)))
    vouchers = data_of(wb["Vouchers"])
    assert [(r[0], day(r[15])) for r in vouchers] == [(april.reference, date(2026, 4, 1))]


def test_filters_that_cannot_apply_are_refused(make):
    call = make.call({"travel": (12, "5000", "1.00", "60000")})
    with (pytest.raises(InvalidInput, match="offers no impact vouchers"),
          budget_export(call, WorkbookFilters(voucher_types=("impact",)))):
        pass
    backwards = WorkbookFilters(awarded_from=date(2026, 2, 1), awarded_to=date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="ends .* before it starts"), budget_export(call,
                                                                                    backwards):
        pass


def test_an_empty_call_gives_a_valid_workbook(make):
    call = make.call()
    wb, rows = export(call)
    check_workbook(wb, call)
    assert rows == 4  # the summary rows only


# ----------------------------------------------------------------------------- injection

INJECTED = {
    "sme": '=HYPERLINK("http://example.com","x")',
    "registry": "=1+2",
    "country": "=1",
    "region": "+region",
    "title": "+1",
    "provider": "-2",
    "payment": "@x",
    "invoice": "=1+1",
    "rejected_title": "=SUM(1,2)",
    "programme": "@programme",
    "funder": "-funder",
    "call_code": "=X1",
}


def test_text_from_users_stays_text_in_every_sheet(client, make):
    call = make.call(code=INJECTED["call_code"])
    manager = make.user("manager")
    manager.name = "=manager"
    applicant = make.applicant()
    org = applicant.organisation
    mv = call.voucher_type("market_validation")
    voucher = make.application("completed", mv, applicant=applicant, manager=manager,
                               amount="1000.00")
    pay(voucher, manager, "100.00", paid_on=today(), reference=INJECTED["payment"],
        invoice_number=INJECTED["invoice"], invoice_date=date(2026, 4, 1))
    rejected = make.application("rejected", mv, applicant=applicant, manager=manager)
    org.legal_name = INJECTED["sme"]
    org.registry_number = INJECTED["registry"]
    org.country = INJECTED["country"]
    org.region = INJECTED["region"]
    voucher.title = INJECTED["title"]
    voucher.provider.name = INJECTED["provider"]
    rejected.title = INJECTED["rejected_title"]
    call.programme.name = INJECTED["programme"]
    call.programme.funder = INJECTED["funder"]
    # The register keeps the facts as granted: give them the same text there.
    grant = db.session.scalar(select(DeMinimisGrant).where(
        DeMinimisGrant.application_id == voucher.id))
    grant.undertaking, grant.registry_number = INJECTED["sme"], INJECTED["registry"]
    grant.country, grant.granting_authority = INJECTED["country"], INJECTED["funder"]
    db.session.commit()
    login(client, manager)

    with post_and_download(client, f"/manage/calls/{call.id}/workbook.xlsx") as response:
        assert response.status_code == 200
        wb = load_workbook(io.BytesIO(response.data))

    check_workbook(wb, call, generated=generated_by(manager))
    reference = voucher.reference
    assert reference.startswith("=X1-")
    where = {
        "Vouchers": [reference, INJECTED["sme"], INJECTED["registry"], INJECTED["country"],
                     INJECTED["region"], INJECTED["provider"], INJECTED["title"]],
        "Applications": [reference, INJECTED["sme"], INJECTED["country"], INJECTED["title"],
                         INJECTED["rejected_title"]],
        "Ledger": [reference, INJECTED["sme"], INJECTED["payment"], "=manager"],
        "Payments": [reference, INJECTED["sme"], INJECTED["payment"]],
        "De minimis": [INJECTED["sme"], INJECTED["registry"], INJECTED["country"],
                       INJECTED["funder"], reference],
        "List of expenditure": [reference, INJECTED["invoice"]],
        "About": [INJECTED["programme"], INJECTED["funder"], generated_by(manager)],
    }
    for sheet, texts in where.items():
        cells = {c.value: c.data_type for row in wb[sheet].iter_rows() for c in row
                 if c.value is not None}
        for text in texts:
            assert cells.get(text) == "s", (sheet, text, cells.get(text))
    # The only formulas anywhere are the exporter's own: sums, what a voucher holds, the
    # ledger's sums per type and their comparison with the Summary.
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert EXPORTER_FORMULA.fullmatch(cell.value), (ws.title, cell.coordinate,
                                                                    cell.value)


EXPORTER_FORMULA = re.compile(
    r"=SUM\([A-Z]\d+:[A-Z]\d+\)|=J\d+-K\d+|='Summary'![EFG]\d+"
    r"|=SUMPRODUCT\(\(\$D\$2:\$D\$\d+=\$A\d+\)\*[FGH]\$2:[FGH]\$\d+\)"
    r'|=IF\(AND\(ROUND\(F\d+-I\d+,2\)=0,ROUND\(G\d+-J\d+,2\)=0,H\d+=K\d+\),"Yes","No"\)')


# ----------------------------------------------------------------------------- the route


def test_manager_downloads_the_workbook(client, scenario):
    login(client, scenario.manager)
    # The form queues a job; its page offers the file once made (tests/jobs_support.py).
    with post_and_download(client, f"/manage/calls/{scenario.call.id}/workbook.xlsx") as response:
        assert response.status_code == 200
        assert response.mimetype == XLSX_MIMETYPE
        today = utcnow().strftime("%Y%m%d")
        disposition = response.headers["Content-Disposition"]
        assert disposition == f"attachment; filename={scenario.call.code}-budget-{today}.xlsx"
        assert "no-store" in response.headers["Cache-Control"]
        data = response.data
        assert int(response.headers["Content-Length"]) == len(data)
    check_workbook(load_workbook(io.BytesIO(data)), scenario.call,
                   generated=generated_by(scenario.manager))


def test_route_filters_come_from_the_posted_form(client, scenario):
    login(client, scenario.manager)
    today = local_date(utcnow())
    url = f"/manage/calls/{scenario.call.id}/workbook.xlsx"
    form = {"type": ["travel", "market_validation"], "from": f"{today:%Y-%m-%d}",
            "to": f"{today:%Y-%m-%d}"}
    with post_and_download(client, url, form) as response:
        assert response.status_code == 200
        wb = load_workbook(io.BytesIO(response.data))
    filters = WorkbookFilters(voucher_types=("travel", "market_validation"),
                              awarded_from=today, awarded_to=today)
    check_workbook(wb, scenario.call, filters, generated=generated_by(scenario.manager))
    assert [r[0] for r in rows_of(wb["Summary"])] == ["Travel", "Market validation", "Total"]
    # A filtered workbook says so in its name, so it is never taken for the full one.
    stamp = f"{today:%Y%m%d}"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename={scenario.call.code}-budget-{utcnow():%Y%m%d}-filtered-travel-"
        f"market_validation-from-{stamp}-to-{stamp}.xlsx")


@pytest.mark.parametrize("filters, tail", [
    (WorkbookFilters(), ""),
    (WorkbookFilters(voucher_types=("impact",)), "-filtered-impact"),
    (WorkbookFilters(awarded_to=date(2026, 3, 31)), "-filtered-to-20260331"),
    (WorkbookFilters(awarded_from=date(2026, 1, 2)), "-filtered-from-20260102"),
])
def test_file_name_says_what_the_workbook_is_filtered_by(make, filters, tail):
    call = make.call(code="HLS 9/2026")
    at = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    assert workbook_filename(call, at, filters) == f"HLS_9_2026-budget-20260601{tail}.xlsx"


@pytest.mark.parametrize("query, message", [
    ("from=2026-13-01", "Give the date as YYYY-MM-DD."),
    ("from=2026-03-01&to=2026-02-01", "before its start"),
    ("type=impact", "Choose among the voucher types of this call."),
    ("to=9999-12-31", "Give award dates between 1900-01-01 and 2999-12-31"),
    ("from=0001-01-01", "Give award dates between 1900-01-01 and 2999-12-31"),
])
def test_bad_filters_go_back_to_the_dashboard_with_the_reason(client, make, query, message):
    call = make.call({"travel": (12, "5000", "1.00", "60000")})
    login(client, make.manager())
    response = client.post(f"/manage/calls/{call.id}/workbook.xlsx", data=parse_qs(query))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/manage/calls/{call.id}/dashboard")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Workbook not made" in html and message in html
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0  # nothing queued


@pytest.mark.parametrize("role", ["applicant", "evaluator", "anonymous"])
def test_only_managers_download(client, make, role):
    call = make.call()
    if role == "applicant":
        login(client, make.applicant())
    elif role == "evaluator":
        login(client, make.evaluator())
    response = client.post(f"/manage/calls/{call.id}/workbook.xlsx")
    if role == "anonymous":
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    else:
        assert response.status_code == 404
    assert response.mimetype != XLSX_MIMETYPE


def test_unknown_call_is_not_found(client, make):
    login(client, make.manager())
    assert client.post("/manage/calls/999999/workbook.xlsx").status_code == 404


def test_dashboard_offers_the_download_form(client, make):
    call = make.call()
    login(client, make.manager())
    html = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)
    assert f'<form method="post" action="/manage/calls/{call.id}/workbook.xlsx"' in html
    assert "Make the workbook" in html
    for t in call.voucher_types:
        assert f'name="type" type="checkbox" value="{t.voucher_type}"' in html
    assert '<label for="from">Awarded from</label>' in html
    assert '<label for="to">Awarded to</label>' in html


# --------------------------------------------------------------------------- the command


def test_command_line_export(runner, scenario, tmp_path):
    output = tmp_path / "book.xlsx"
    result = runner.invoke(args=["export-budget", "--call", str(scenario.call.id),
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{ROWS_WRITTEN} rows written to {output}."
    check_workbook(load_workbook(output), scenario.call)
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


def test_command_line_filters(runner, scenario, tmp_path):
    output = tmp_path / "book.xlsx"
    result = runner.invoke(args=["export-budget", "--call", str(scenario.call.id),
                                 "--output", str(output), "--type", "travel",
                                 "--from", "2000-01-01", "--to", "2999-12-31"])
    assert result.exit_code == 0, result.output
    filters = WorkbookFilters(voucher_types=("travel",), awarded_from=date(2000, 1, 1),
                              awarded_to=date(2999, 12, 31))
    check_workbook(load_workbook(output), scenario.call, filters)


@pytest.mark.parametrize("args, message", [
    (["--call", "999999"], "There is no call with id 999999."),
    (["--from", "2026-02-30"], "Invalid value for '--from'"),
    (["--to", "yesterday"], "Invalid value for '--to'"),
    (["--type", "holiday"], "Invalid value for '--type'"),
    (["--type", "impact"], "offers no impact vouchers"),
    (["--from", "2026-03-01", "--to", "2026-02-01"], "before it starts"),
    (["--to", "9999-12-31"], "Give award dates between"),
    (["--output", "{tmp}/missing/book.xlsx"], "Cannot write"),
    (["--output", "{tmp}"], "is a directory"),
])
def test_command_line_errors_are_sentences(runner, make, tmp_path, args, message):
    call = make.call({"travel": (12, "5000", "1.00", "60000")})
    base = {"--call": str(call.id), "--output": str(tmp_path / "book.xlsx")}
    given = dict(zip(args[::2], args[1::2], strict=True))
    merged = {**base, **given}
    argv = ["export-budget"]
    for name, value in merged.items():
        argv += [name, value.format(tmp=tmp_path)]
    result = runner.invoke(args=argv)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert not (tmp_path / "book.xlsx").exists()
    assert not [p for p in tmp_path.rglob("*.part")]


def test_command_line_keeps_the_old_file_when_the_export_fails(runner, make, tmp_path,
                                                               monkeypatch):
    call = make.call()
    output = tmp_path / "book.xlsx"
    output.write_bytes(b"previous workbook")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("vouchers.services.workbook.build_budget_workbook", broken)
    result = runner.invoke(args=["export-budget", "--call", str(call.id),
                                 "--output", str(output)])
    assert result.exit_code == 1
    assert f"Cannot write {output}: No space left on device." in result.output
    assert output.read_bytes() == b"previous workbook"
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


def test_command_line_shows_a_progress_bar_on_a_terminal(runner, scenario, tmp_path,
                                                         monkeypatch):
    monkeypatch.setattr("vouchers.cli._on_terminal", lambda: True)
    output = tmp_path / "book.xlsx"
    result = runner.invoke(args=["export-budget", "--call", str(scenario.call.id),
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "Writing book.xlsx" in result.output
    check_workbook(load_workbook(output), scenario.call)


def test_a_time_just_before_a_second_is_not_shown_as_the_next_one(tmp_path):
    # A cell holds a day fraction; 12.9999995 s read back as 13 s before times were cut.
    at = datetime(2026, 12, 2, 5, 17, 12, 999_999, tzinfo=UTC)
    wb = Workbook()
    wb.active["A1"] = utc_naive(at)
    wb.save(tmp_path / "t.xlsx")
    cell = load_workbook(tmp_path / "t.xlsx").active["A1"].value
    assert cell == datetime(2026, 12, 2, 5, 17, 12)
