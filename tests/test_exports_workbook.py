"""The funder's workbook, checked cell by cell after a round trip through openpyxl.

Pure tests: plain rows in, an xlsx out, no application or database involved.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.chart import BarChart

from exports.budget_workbook import (
    AMOUNT_FORMAT,
    DATE_FORMAT,
    DATETIME_FORMAT,
    PERCENT_FORMAT,
    SHEET_NAMES,
    ApplicationRow,
    DeMinimisRow,
    LedgerRow,
    PaymentRow,
    TypeSummary,
    VoucherRow,
    WorkbookMeta,
    amount_format,
    build_budget_workbook,
)
from exports.cells import MAX_CELL_TEXT, clean_text, set_text, string_cell, text_value

GENERATED_AT = datetime(2025, 6, 1, 9, 30, 15, tzinfo=UTC)

# ---------------------------------------------------------------------------- test data


def make_meta(**changes) -> WorkbookMeta:
    values = dict(
        programme="Alpine Space SME vouchers",
        funder="Managing Authority",
        call="Call 1",
        filters=[("Country", "AT"), ("Voucher type", "Innovation voucher")],
        generated_at=GENERATED_AT,
        generated_by="officer@example.org",
    )
    values.update(changes)
    return WorkbookMeta(**values)


def summary(code, label, quota, envelope, rate, received, drafts, awarded, committed,
            paid) -> TypeSummary:
    """A summary row with its derived figures worked out here, as the service would."""
    committed, paid, envelope = Decimal(committed), Decimal(paid), Decimal(envelope)
    return TypeSummary(
        voucher_type=code, label=label, quota=quota, envelope=envelope,
        funding_rate=Decimal(rate), received=received, drafts=drafts, awarded_count=awarded,
        committed=committed, paid=paid, outstanding=committed - paid,
        remaining_envelope=envelope - committed, remaining_quota=quota - awarded,
    )


SUMMARIES = [
    summary("innovation", "Innovation voucher", 40, "200000.00", "0.75", 100, 20, 30,
            "135000.50", "60000.25"),
    summary("digital", "Digitalisation voucher", 30, "90000.00", "0.70", 70, 10, 20,
            "61234.56", "0.00"),
    summary("green", "Green voucher", 20, "50000.00", "0.80", 9, 1, 5, "12000.01",
            "11999.99"),
    summary("ip", "IP voucher", 10, "10000.00", "0.5", 3, 0, 0, "0", "0"),
]

VOUCHERS = [
    VoucherRow(
        reference="V-001", sme="Edelweiss GmbH", registry_number="ATU12345678", country="AT",
        region="Tyrol", voucher_type="innovation", provider="Alpine Consulting",
        title="Market study", requested=Decimal("5000.00"), awarded=Decimal("4500.50"),
        released=Decimal("0.25"), paid=Decimal("2000.25"), outstanding=Decimal("2500.00"),
        recovery_due=Decimal("0.00"), award_date=date(2025, 3, 1), state="awarded",
        report_state="submitted",
    ),
    VoucherRow(
        reference="V-002", sme="Sava d.o.o.", registry_number="SI87654321", country="SI",
        region="Gorenjska", voucher_type="unknown-type", provider=None, title="Prototype",
        requested=Decimal("3000"), awarded=Decimal("3000"), paid=Decimal("0"),
        outstanding=Decimal("3000"), award_date=None, state="awarded", report_state=None,
    ),
]

APPLICATIONS = [
    ApplicationRow(
        reference="A-001", sme="Edelweiss GmbH", country="AT", voucher_type="innovation",
        title="Market study", state="approved",
        submitted_at=datetime(2025, 1, 15, 10, 5, tzinfo=timezone(timedelta(hours=1))),
        weighted_score=Decimal("87.50"), review_count=3, decision="approved",
    ),
    ApplicationRow(
        reference="A-002", sme="Draft SME", country="DE", voucher_type="digital",
        title="Idea", state="draft", submitted_at=None, weighted_score=None, review_count=0,
        decision=None,
    ),
]

PAYMENTS = [
    PaymentRow(
        paid_on=date(2025, 4, 2), voucher_reference="V-001", sme="Edelweiss GmbH",
        amount=Decimal("2000.25"), payment_reference="PAY-1", invoice_number="INV-2025-17",
        invoice_date=date(2025, 3, 20), description="Market study, first instalment",
        vat=Decimal("400.05"),
    ),
    PaymentRow(
        paid_on=date(2025, 5, 6), voucher_reference="V-" + "9" * 40, sme="Sava d.o.o.",
        amount=Decimal("10.10"), payment_reference="PAY-2", invoice_number="N" * 45,
        invoice_date=None, description="D" * 300, kind="Advance",
    ),
    # Reversed: listed with the payments, not declared in the list of expenditure.
    PaymentRow(
        paid_on=date(2025, 5, 7), voucher_reference="V-001", sme="Edelweiss GmbH",
        amount=Decimal("99.99"), payment_reference="PAY-3", invoice_number=None,
        invoice_date=None, description="Wrong amount", reversed=True,
    ),
]

LEDGER = [
    LedgerRow(
        booked_on=date(2025, 3, 1), voucher_reference="V-001", sme="Edelweiss GmbH",
        voucher_type="innovation", kind="Commitment", committed=Decimal("4500.50"),
        paid=Decimal("0"), quota=1, reason="", reference="", recorded_by="Officer One",
        recorded_at=datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
    ),
    LedgerRow(
        booked_on=date(2025, 4, 2), voucher_reference="V-001", sme="Edelweiss GmbH",
        voucher_type="innovation", kind="Payment", committed=Decimal("0"),
        paid=Decimal("2000.25"), quota=0, reason="", reference="PAY-1",
        recorded_by="Officer One", recorded_at=datetime(2025, 4, 2, 10, 0, tzinfo=UTC),
    ),
    LedgerRow(
        booked_on=date(2025, 5, 1), voucher_reference="V-002", sme="Sava d.o.o.",
        voucher_type="digital", kind="Release", committed=Decimal("-0.25"),
        paid=Decimal("0"), quota=0, reason="Not spent.", reference="", recorded_by=None,
        recorded_at=datetime(2025, 5, 1, 8, 0, tzinfo=UTC),
    ),
]

DE_MINIMIS = [
    DeMinimisRow(
        undertaking="Edelweiss GmbH", country="AT", vat_number="ATU12345678",
        registry_number="FN 123456a", granting_authority="Managing Authority",
        award_date=date(2025, 3, 1), aid_amount=Decimal("4500.50"),
        aid_after_close_out=Decimal("4500.25"),
        regulation="Commission Regulation (EU) 2023/2831", voucher_reference="V-001",
        declared_before=Decimal("100000.00"), rolling_total=Decimal("104500.50"),
    ),
]


def build(
    meta: WorkbookMeta | None = None,
    summaries=SUMMARIES,
    vouchers=VOUCHERS,
    applications=APPLICATIONS,
    payments=PAYMENTS,
    de_minimis=DE_MINIMIS,
    progress=None,
    labels=None,
    ledger=LEDGER,
    reconcile=True,
):
    buffer = io.BytesIO()
    build_budget_workbook(
        buffer,
        meta=meta or make_meta(),
        summaries=summaries,
        vouchers=iter(vouchers),
        applications=iter(applications),
        payments=payments,
        de_minimis=iter(de_minimis),
        ledger=iter(ledger),
        reconcile=reconcile,
        labels=labels,
        progress=progress,
    )
    buffer.seek(0)
    return load_workbook(buffer)


@pytest.fixture(scope="module")
def book():
    return build()


def data_rows(ws) -> list[tuple]:
    return list(ws.iter_rows(min_row=2, values_only=True))


def header(ws) -> list:
    return [c.value for c in ws[1]]


# ------------------------------------------------------------------------------- layout


def test_sheets_in_order_and_properties(book):
    assert book.sheetnames == list(SHEET_NAMES)
    assert book.properties.creator == "officer@example.org"
    assert "Alpine Space SME vouchers" in book.properties.title
    assert book.properties.created == GENERATED_AT.replace(tzinfo=None)


def test_target_may_be_a_path(tmp_path):
    path = tmp_path / "book.xlsx"
    build_budget_workbook(path, meta=make_meta(), summaries=SUMMARIES, vouchers=[],
                          applications=[], payments=[], de_minimis=[])
    assert load_workbook(path).sheetnames == list(SHEET_NAMES)


@pytest.mark.parametrize(
    ("sheet", "ref"),
    [
        ("Vouchers", "A1:R3"),
        ("Ledger", "A1:L4"),
        ("Applications", "A1:J3"),
        ("Payments", "A1:G4"),
        ("De minimis", "A1:L2"),
        ("List of expenditure", "A1:M3"),
    ],
)
def test_ledgers_have_frozen_header_filter_and_widths(book, sheet, ref):
    ws = book[sheet]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == ref
    assert all(cell.font.b for cell in ws[1])
    assert ws.column_dimensions["A"].width >= 6
    assert all(ws.column_dimensions[cell.column_letter].width >= 6 for cell in ws[1])
    assert max(ws.column_dimensions[cell.column_letter].width for cell in ws[1]) >= 15


def test_filter_covers_the_header_when_there_are_no_rows():
    wb = build(vouchers=[], applications=[], payments=[], de_minimis=[], ledger=[])
    assert wb["Vouchers"].auto_filter.ref == "A1:R1"
    assert wb["Ledger"].auto_filter.ref == "A1:L1"
    assert wb["Applications"].max_row == 1
    # The totals under an empty list are zeros, never a reversed range such as J2:J1.
    assert [c.value for c in wb["Vouchers"][2]][8:15] == [0] * 7
    assert [c.value for c in wb["Ledger"][2]][5:8] == [0, 0, 0]


def test_positional_rows_are_refused():
    # Fourteen values in a row are too easy to shift by one: rows are built by keyword.
    with pytest.raises(TypeError):
        DeMinimisRow("x", "y", date(2025, 1, 1), Decimal(1), Decimal(0), Decimal(1))


# ------------------------------------------------------------------------------ printing


@pytest.mark.parametrize("sheet", SHEET_NAMES)
def test_every_sheet_prints_landscape_one_page_wide_with_its_header_repeated(book, sheet):
    ws = book[sheet]
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$1:$1"
    assert [c.font.b for c in ws[1]] == [True] * ws.max_column


def test_the_summary_prints_on_one_page_the_ledgers_as_long_as_they_need(book):
    assert book["Summary"].page_setup.fitToHeight == 1
    for sheet in SHEET_NAMES[1:]:
        # 0: as many pages down as the rows need, each one page wide.
        assert book[sheet].page_setup.fitToHeight == 0, sheet


# ------------------------------------------------------------------------------ summary


def test_summary_rows_per_type(book):
    ws = book["Summary"]
    assert header(ws) == [
        "Voucher type", "Quota", "Applications received", "Drafts (not received)", "Awarded",
        "Committed", "Paid", "Outstanding", "Remaining envelope", "Remaining quota",
        "Funding rate",
    ]  # fmt: skip
    rows = data_rows(ws)[: len(SUMMARIES)]
    for row, s in zip(rows, SUMMARIES, strict=True):
        assert row[0] == s.label
        assert row[1:5] == (s.quota, s.received, s.drafts, s.awarded_count)
        # Cells hold the exact two-decimal figure; comparing as Decimal avoids float slop.
        amounts = [Decimal(str(v)) for v in row[5:9]]
        assert amounts == [s.committed, s.paid, s.outstanding, s.remaining_envelope]
        assert row[9] == s.remaining_quota
        assert Decimal(str(row[10])) == s.funding_rate
    first = rows[0]
    assert first[7] == pytest.approx(75000.25)
    assert first[8] == pytest.approx(64999.50)
    assert first[9] == 10


def test_summary_shows_the_figures_it_is_given_and_computes_none():
    # The budget figures are defined once (vouchers/figures.py); the sheet only lays out
    # what the caller worked out, so a figure that disagreed with its parts would show.
    odd = replace(SUMMARIES[0], outstanding=Decimal("1.00"), remaining_envelope=Decimal("2.00"),
                  remaining_quota=3)
    row = data_rows(build(summaries=[odd])["Summary"])[0]
    assert (Decimal(str(row[7])), Decimal(str(row[8])), row[9]) == (
        Decimal("1.00"), Decimal("2.00"), 3)


def test_summary_total_row_is_live_sums_over_the_type_rows(book):
    ws = book["Summary"]
    total = [c.value for c in ws[len(SUMMARIES) + 2]]
    assert total[0] == "Total"
    assert total[1:10] == [f"=SUM({col}2:{col}5)" for col in "BCDEFGHIJ"]
    assert total[10] is None  # a rate is not additive
    assert all(c.data_type == "f" for c in ws[6][1:10])
    assert ws.max_row == len(SUMMARIES) + 2


def test_summary_formats(book):
    ws = book["Summary"]
    for row in range(2, 7):
        for col in "FGHI":
            assert ws[f"{col}{row}"].number_format == AMOUNT_FORMAT
    for row in range(2, 6):
        assert ws[f"K{row}"].number_format == PERCENT_FORMAT
    assert ws.freeze_panes == "A2"


def test_summary_chart_plots_committed_and_paid_per_type(book):
    charts = book["Summary"]._charts
    assert len(charts) == 1
    chart = charts[0]
    assert isinstance(chart, BarChart)
    assert [s.val.numRef.f for s in chart.series] == [
        "'Summary'!$F$2:$F$5",
        "'Summary'!$G$2:$G$5",
    ]
    assert [s.tx.strRef.f for s in chart.series] == ["'Summary'!F1", "'Summary'!G1"]
    assert chart.series[0].cat.strRef.f == "'Summary'!$A$2:$A$5"


def test_summary_without_types_has_zero_totals_and_no_chart():
    wb = build(summaries=[])
    ws = wb["Summary"]
    assert [c.value for c in ws[2]][:10] == ["Total"] + [0] * 9
    assert ws._charts == []


def test_summary_follows_the_number_of_types():
    wb = build(summaries=SUMMARIES[:2])
    ws = wb["Summary"]
    assert ws["B4"].value == "=SUM(B2:B3)"
    assert ws._charts[0].series[0].val.numRef.f == "'Summary'!$F$2:$F$3"


# ------------------------------------------------------------------------------ ledgers


def test_voucher_rows(book):
    ws = book["Vouchers"]
    assert header(ws) == [
        "Reference", "SME", "VAT/registry no.", "Country", "Region", "Voucher type",
        "Provider", "Title", "Requested", "Awarded", "Released", "Committed", "Paid",
        "Outstanding", "Recovery due", "Award date", "State", "Final report",
    ]  # fmt: skip
    first, second, total = data_rows(ws)
    assert first[:8] == (
        "V-001", "Edelweiss GmbH", "ATU12345678", "AT", "Tyrol", "Innovation voucher",
        "Alpine Consulting", "Market study",
    )  # fmt: skip
    assert [Decimal(str(v)) for v in (*first[8:11], *first[12:15])] == [
        Decimal("5000.00"), Decimal("4500.50"), Decimal("0.25"), Decimal("2000.25"),
        Decimal("2500.00"), Decimal("0.00"),
    ]  # fmt: skip
    # What the voucher holds is the sheet's own definition: awarded less released.
    assert (first[11], second[11]) == ("=J2-K2", "=J3-K3")
    assert first[15] == datetime(2025, 3, 1)
    assert first[16:] == ("awarded", "submitted")
    # Unknown type codes are shown as given; missing values leave the cell empty.
    assert second[5] == "unknown-type"
    assert second[6] is None
    assert second[15] is None
    assert second[17] is None
    assert second[13] == 3000
    assert second[10] == 0  # nothing released: the row's default


def test_voucher_totals_are_live_sums_outside_the_filter(book):
    ws = book["Vouchers"]
    total = [c.value for c in ws[4]]
    assert total[0] == "Total"
    assert total[8:15] == [f"=SUM({c}2:{c}3)" for c in "IJKLMNO"]
    assert total[1:8] == [None] * 7 and total[15:] == [None] * 3
    assert ws.auto_filter.ref == "A1:R3"
    assert all(ws.cell(4, col).number_format == AMOUNT_FORMAT for col in range(9, 16))


def test_labels_from_the_caller_name_types_without_a_summary():
    wb = build(labels={"unknown-type": "Registry label", "digital": "Digital (registry)"})
    assert data_rows(wb["Vouchers"])[1][5] == "Registry label"
    assert data_rows(wb["Applications"])[1][3] == "Digital (registry)"


def test_voucher_formats(book):
    ws = book["Vouchers"]
    for col in "IJKLMNO":
        assert ws[f"{col}2"].number_format == AMOUNT_FORMAT
        assert ws[f"{col}2"].data_type == ("f" if col == "L" else "n")
    assert ws["P2"].number_format == DATE_FORMAT
    assert ws["P2"].is_date


def test_application_rows(book):
    ws = book["Applications"]
    assert header(ws) == [
        "Reference", "SME", "Country", "Voucher type", "Title", "State",
        "Submitted at (UTC)", "Weighted score", "Reviews", "Decision",
    ]  # fmt: skip
    first, second = data_rows(ws)
    # 10:05 at UTC+1 is 09:05 UTC.
    assert first == (
        "A-001", "Edelweiss GmbH", "AT", "Innovation voucher", "Market study", "approved",
        datetime(2025, 1, 15, 9, 5), 87.5, 3, "approved",
    )  # fmt: skip
    assert second == (
        "A-002", "Draft SME", "DE", "Digitalisation voucher", "Idea", "draft",
        None, None, 0, None,
    )  # fmt: skip
    assert ws["G2"].number_format == DATETIME_FORMAT


def test_payment_rows(book):
    ws = book["Payments"]
    assert header(ws) == ["Date", "Voucher reference", "SME", "Kind", "Amount",
                          "Payment reference", "Reversed"]
    first, second, third = data_rows(ws)
    assert first == (datetime(2025, 4, 2), "V-001", "Edelweiss GmbH", "Payment", 2000.25,
                     "PAY-1", "No")
    assert second[1] == "V-" + "9" * 40  # cut only where Jems requires it
    assert (second[3], second[6]) == ("Advance", "No")
    # A reversed payment stays listed (history is not edited), marked as such.
    assert (third[5], third[6]) == ("PAY-3", "Yes")
    assert ws["A2"].number_format == DATE_FORMAT
    assert ws["E2"].number_format == AMOUNT_FORMAT


def test_de_minimis_register_rows(book):
    ws = book["De minimis"]
    assert header(ws) == [
        "Undertaking", "Country", "VAT number", "Registry number", "Granting authority",
        "Date granted", "Amount granted", "Aid after close-out", "Regulation",
        "Voucher reference", "Aid declared before", "Total over rolling period",
    ]  # fmt: skip
    row, total = data_rows(ws)
    assert row == (
        "Edelweiss GmbH", "AT", "ATU12345678", "FN 123456a", "Managing Authority",
        datetime(2025, 3, 1), 4500.5, 4500.25, "Commission Regulation (EU) 2023/2831",
        "V-001", 100000, 104500.5,
    )  # fmt: skip
    assert ws["F2"].number_format == DATE_FORMAT
    assert all(ws[f"{c}2"].number_format == AMOUNT_FORMAT for c in "GHKL")
    # The aid adds up; the rolling totals, running sums per undertaking, do not.
    assert total[0] == "Total"
    assert total[6:8] == ("=SUM(G2:G2)", "=SUM(H2:H2)")
    assert total[10:] == (None, None)


def test_de_minimis_rows_without_the_rolling_figures_leave_them_empty():
    plain = DeMinimisRow(undertaking="X", registry_number="R1", award_date=date(2025, 1, 1),
                         aid_amount=Decimal("10"))
    row = data_rows(build(de_minimis=[plain])["De minimis"])[0]
    assert row[:2] == ("X", None) and row[7:] == (None, None, None, None, None)


# --------------------------------------------------------------------------------- ledger


def test_ledger_rows_in_booking_order(book):
    ws = book["Ledger"]
    assert header(ws) == [
        "Date booked", "Voucher reference", "SME", "Voucher type", "Kind",
        "Committed change", "Paid change", "Quota change", "Reason", "Reference",
        "Recorded by", "Recorded at (UTC)",
    ]  # fmt: skip
    rows = data_rows(ws)
    assert rows[0] == (datetime(2025, 3, 1), "V-001", "Edelweiss GmbH", "Innovation voucher",
                       "Commitment", 4500.5, 0, 1, None, None, "Officer One",
                       datetime(2025, 3, 1, 9, 0))
    assert [r[4] for r in rows[:3]] == ["Commitment", "Payment", "Release"]
    assert rows[2][5] == -0.25 and rows[2][10] is None
    for col in "FG":
        assert ws[f"{col}2"].number_format == AMOUNT_FORMAT
    assert ws["A2"].number_format == DATE_FORMAT
    assert ws["L2"].number_format == DATETIME_FORMAT
    assert ws.sheet_view.pane is not None and ws.freeze_panes == "A2"


def test_ledger_totals_and_the_sums_per_type_against_the_summary(book):
    ws = book["Ledger"]
    total = [c.value for c in ws[5]]
    assert total[0] == "Total"
    assert total[5:8] == ["=SUM(F2:F4)", "=SUM(G2:G4)", "=SUM(H2:H4)"]
    assert all(c.value is None for c in ws[6])
    assert [c.value for c in ws[7]] == [
        "Per voucher type", None, None, None, None, "Committed", "Paid", "Quota",
        "Summary: committed", "Summary: paid", "Summary: awarded", "Agrees with the Summary",
    ]  # fmt: skip
    rows = [[c.value for c in ws[r]] for r in range(8, 8 + len(SUMMARIES))]
    assert [r[0] for r in rows] == [s.label for s in SUMMARIES]
    first = rows[0]
    # Exact comparisons with the type's label (a SUMIF criterion would parse it).
    assert first[5:8] == ["=SUMPRODUCT(($D$2:$D$4=$A8)*F$2:F$4)",
                          "=SUMPRODUCT(($D$2:$D$4=$A8)*G$2:G$4)",
                          "=SUMPRODUCT(($D$2:$D$4=$A8)*H$2:H$4)"]
    assert first[8:11] == ["='Summary'!F2", "='Summary'!G2", "='Summary'!E2"]
    assert first[11].startswith("=IF(AND(ROUND(F8-I8,2)=0,ROUND(G8-J8,2)=0,H8=K8)")
    assert rows[3][8] == "='Summary'!F5"
    assert ws.max_row == 7 + len(SUMMARIES)


def test_a_ledger_narrowed_by_award_date_is_not_compared_with_the_summary():
    ws = build(reconcile=False)["Ledger"]
    assert [c.value for c in ws[7]][:8] == [
        "Per voucher type", None, None, None, None, "Committed", "Paid", "Quota"]
    assert ws.max_column == 12  # the entries' columns; the comparison is not written
    assert all(ws.cell(row, 9).value is None for row in range(7, 12))


def test_an_empty_ledger_sums_to_zero_per_type():
    ws = build(ledger=[])["Ledger"]
    assert [c.value for c in ws[2]][5:8] == [0, 0, 0]
    assert [c.value for c in ws[5]][5:8] == [0, 0, 0]


def test_list_of_expenditure(book):
    ws = book["List of expenditure"]
    assert header(ws) == [
        "ID", "Cost category", "Internal reference no.", "Invoice no.", "Invoice date",
        "Date of payment", "Description", "Total value incl. VAT", "VAT", "Declared amount",
        "Currency", "Conversion rate", "Declared amount in EUR",
    ]  # fmt: skip
    # The reversed payment is not declared.
    first, second = data_rows(ws)
    assert first == (
        1, "External expertise and services", "V-001", "INV-2025-17", datetime(2025, 3, 20),
        datetime(2025, 4, 2), "Market study, first instalment", 2400.3, 400.05, 2000.25,
        "EUR", 1, 2000.25,
    )  # fmt: skip
    assert second[0] == 2
    assert second[2] == ("V-" + "9" * 40)[:30]
    assert len(second[2]) == 30
    assert second[3] == "N" * 30
    assert second[4] is None
    assert second[6] == "D" * 255
    assert (second[7], second[8], second[9]) == (10.1, 0, 10.1)
    for col in "HIJM":
        assert ws[f"{col}2"].number_format == AMOUNT_FORMAT
    assert ws["E2"].number_format == DATE_FORMAT
    assert ws["F2"].number_format == DATE_FORMAT


def test_other_currency_uses_its_code_and_leaves_the_rate_open():
    wb = build(meta=make_meta(currency="CHF", cost_category="Vouchers"))
    ws = wb["List of expenditure"]
    row = data_rows(ws)[0]
    assert row[1] == "Vouchers"
    assert row[10] == "CHF"
    assert row[11] is None
    assert row[12] is None
    assert ws["J2"].number_format == amount_format("CHF") == "#,##0.00 [$CHF]"
    assert wb["Summary"]["F2"].number_format == amount_format("CHF")


def test_about_sheet(book):
    rows = [tuple(r) for r in book["About"].iter_rows(values_only=True)]
    assert rows == [
        ("Item", "Value"),
        ("Programme", "Alpine Space SME vouchers"),
        ("Funder", "Managing Authority"),
        ("Call", "Call 1"),
        ("Filter: Country", "AT"),
        ("Filter: Voucher type", "Innovation voucher"),
        ("Generated at (UTC)", datetime(2025, 6, 1, 9, 30, 15)),
        ("Generated by", "officer@example.org"),
    ]


def test_about_sheet_without_filters():
    rows = list(build(meta=make_meta(filters=[]))["About"].iter_rows(values_only=True))
    assert rows[4] == ("Filters", "none")


def test_meta_is_validated():
    with pytest.raises(ValueError, match="timezone"):
        make_meta(generated_at=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="ISO 4217"):
        make_meta(currency='EUR"')


# ------------------------------------------------------------------- streaming, progress


class OnceOnly:
    """An iterable that fails loudly if the builder walks it a second time."""

    def __init__(self, rows):
        self.rows = rows
        self.iterated = 0

    def __iter__(self) -> Iterator:
        self.iterated += 1
        assert self.iterated == 1, "iterated twice"
        return iter(self.rows)


def test_iterators_are_consumed_once_and_payments_may_be_a_generator():
    vouchers, applications, de_minimis, ledger = (
        OnceOnly(VOUCHERS),
        OnceOnly(APPLICATIONS),
        OnceOnly(DE_MINIMIS),
        OnceOnly(LEDGER),
    )
    buffer = io.BytesIO()
    build_budget_workbook(
        buffer,
        meta=make_meta(),
        summaries=iter(SUMMARIES),
        vouchers=vouchers,
        applications=applications,
        payments=(p for p in PAYMENTS),
        de_minimis=de_minimis,
        ledger=ledger,
    )
    wb = load_workbook(buffer)
    assert (vouchers.iterated, applications.iterated, de_minimis.iterated,
            ledger.iterated) == (1, 1, 1, 1)
    assert [r[0] for r in data_rows(wb["Vouchers"])] == ["V-001", "V-002", "Total"]
    assert [r[0] for r in data_rows(wb["Applications"])] == ["A-001", "A-002"]
    assert len(data_rows(wb["De minimis"])) == 2  # the grant and the totals
    assert [r[1] for r in data_rows(wb["Ledger"])[:3]] == ["V-001", "V-001", "V-002"]
    # The generator of payments fed both sheets in full.
    assert [r[5] for r in data_rows(wb["Payments"])] == ["PAY-1", "PAY-2", "PAY-3"]
    assert [r[0] for r in data_rows(wb["List of expenditure"])] == [1, 2]


def test_progress_is_reported_every_thousand_rows_and_at_the_end():
    calls = []
    many = (replace(APPLICATIONS[1], reference=f"A-{i}") for i in range(2500))
    wb = build(applications=list(many), progress=calls.append)
    declared = [p for p in PAYMENTS if not p.reversed]
    total = (len(SUMMARIES) + len(VOUCHERS) + len(LEDGER) + 2500 + len(PAYMENTS)
             + len(declared) + len(DE_MINIMIS))
    assert calls == [1000, 2000, total]
    assert wb["Applications"].max_row == 2501


# ------------------------------------------------------------------------------- escaping

NASTY = [
    '=HYPERLINK("http://example.com","x")',
    "=1+1",
    "+1",
    "-1+2",
    "@SUM(A1)",
    "\tx",
    "=cmd|' /C calc'!A0",
    "#N/A",
    "#DIV/0!",
    " leading and trailing ",
    "line\nbreak",
]

# Every text field of every input, so that no column can be forgotten.
_TEXT_FIELDS = {
    TypeSummary: ("label",),
    VoucherRow: (
        "reference", "sme", "registry_number", "country", "region", "voucher_type",
        "provider", "title", "state", "report_state",
    ),
    ApplicationRow: ("reference", "sme", "country", "voucher_type", "title", "state", "decision"),
    PaymentRow: ("voucher_reference", "sme", "payment_reference", "invoice_number", "description",
                 "kind"),
    DeMinimisRow: ("undertaking", "registry_number", "country", "vat_number",
                   "granting_authority", "regulation", "voucher_reference"),
    LedgerRow: ("voucher_reference", "sme", "voucher_type", "kind", "reason", "reference",
                "recorded_by"),
}  # fmt: skip

# (sheet, row, column letters holding user text, maximum length or None)
_TEXT_CELLS = [
    ("Summary", 2, "A", None),
    ("Vouchers", 2, "ABCDEFGHQR", None),
    ("Ledger", 2, "BCDEIJK", None),
    # The label of the sums per type (row 6, under the totals and the headings).
    ("Ledger", 6, "A", None),
    ("Applications", 2, "ABCDEFJ", None),
    ("Payments", 2, "BCDF", None),
    ("De minimis", 2, "ABCDEIJ", None),
    ("List of expenditure", 2, "B", None),
    ("List of expenditure", 2, "CD", 30),
    ("List of expenditure", 2, "G", 255),
    ("About", 2, "B", None),
    ("About", 3, "B", None),
    ("About", 4, "B", None),
    ("About", 5, "B", None),
    ("About", 7, "B", None),
]


def _with_text(row, text: str):
    return replace(row, **dict.fromkeys(_TEXT_FIELDS[type(row)], text))


def build_with_text(text: str):
    summary = _with_text(SUMMARIES[0], text)
    return build(
        meta=make_meta(
            programme=text,
            funder=text,
            call=text,
            filters=[(text, text)],
            generated_by=text,
            cost_category=text,
        ),
        summaries=[summary],
        vouchers=[_with_text(VOUCHERS[0], text)],
        applications=[_with_text(APPLICATIONS[0], text)],
        payments=[_with_text(PAYMENTS[0], text)],
        de_minimis=[_with_text(DE_MINIMIS[0], text)],
        ledger=[_with_text(LEDGER[0], text)],
    )


def assert_all_text_cells_hold(wb, text: str) -> None:
    for sheet, row, letters, max_length in _TEXT_CELLS:
        expected = clean_text(text, max_length) or None
        for letter in letters:
            cell = wb[sheet][f"{letter}{row}"]
            where = f"{sheet}!{letter}{row}"
            assert cell.value == expected, where
            if expected is not None:
                assert cell.data_type == "s", where
    label = wb["About"]["A5"]
    assert label.data_type == "s"
    assert label.value == "Filter: " + clean_text(text)


@pytest.mark.parametrize("text", NASTY)
def test_text_that_looks_like_a_formula_stays_text_unchanged(text):
    wb = build_with_text(text)
    assert clean_text(text) == text  # nothing to clean: the exact text must come back
    assert_all_text_cells_hold(wb, text)
    # And the file holds no formula except the exporter's own: the totals, what a voucher
    # holds, the ledger's sums per type and their comparison with the Summary.
    for ws in wb.worksheets:
        formulas = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
        assert formulas == EXPORTER_FORMULAS.get(ws.title, []), ws.title


EXPORTER_FORMULAS = {
    "Summary": [f"{col}3" for col in "BCDEFGHIJ"],
    "Vouchers": ["L2", *(f"{col}3" for col in "IJKLMNO")],
    "Ledger": ["F3", "G3", "H3", *(f"{col}6" for col in "FGHIJKL")],
    "De minimis": ["G3", "H3"],
}


def test_carriage_returns_become_line_feeds():
    # XML parsers turn CR and CRLF into LF when reading, so the helper does it up front and
    # what is written is exactly what every reader sees.
    assert clean_text("\rx") == "\nx"
    assert clean_text("a\r\nb\rc") == "a\nb\nc"
    wb = build_with_text("\rx")
    assert_all_text_cells_hold(wb, "\rx")
    assert wb["Vouchers"]["A2"].value == "\nx"


def test_control_characters_are_cut():
    assert clean_text("a\x00b\x07c\x1bd\ufffee\ud800") == "abcde"
    wb = build_with_text("=\x01x")
    assert wb["Vouchers"]["B2"].value == "=x"
    assert wb["Vouchers"]["B2"].data_type == "s"


def test_overlong_text_is_cut_to_the_cell_limit():
    assert len(clean_text("x" * (MAX_CELL_TEXT + 10))) == MAX_CELL_TEXT
    assert clean_text("abcdef", 3) == "abc"


def test_helpers_pin_the_string_type():
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    assert text_value(ws, "plain") == "plain"
    assert text_value(ws, None) is None
    assert text_value(ws, "\x00") is None
    pinned = text_value(ws, "=1+1")
    assert pinned.data_type == "s"
    assert pinned.value == "=1+1"
    assert string_cell(ws, "#REF!").data_type == "s"

    normal = Workbook().active
    cell = set_text(normal["A1"], "=2+2")
    assert (cell.value, cell.data_type) == ("=2+2", "s")


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda prefix, rest: prefix + rest,
            st.sampled_from(["=", "+", "-", "@", "\t", "\r", "#", "=="]),
            st.text(max_size=20),
        ),
    )
)
def test_any_text_round_trips_as_text(text):
    wb = build_with_text(text)
    assert_all_text_cells_hold(wb, text)


# ------------------------------------------------------------------------- independence


def test_exports_import_neither_the_app_nor_the_database():
    # The layout must stay buildable from plain rows: no Flask, no SQLAlchemy, no vouchers.
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "exports"
    forbidden = ("vouchers", "flask", "sqlalchemy", "workflows")
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in forbidden]
    assert list(root.rglob("sheets/*.py")), "the sheets package moved"
    assert found == []
