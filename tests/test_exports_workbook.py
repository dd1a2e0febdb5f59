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


SUMMARIES = [
    TypeSummary(
        "innovation", "Innovation voucher", 40, Decimal("200000.00"), Decimal("0.75"),
        120, 100, 30, Decimal("135000.50"), Decimal("60000.25"),
    ),
    TypeSummary(
        "digital", "Digitalisation voucher", 30, Decimal("90000.00"), Decimal("0.70"),
        80, 70, 20, Decimal("61234.56"), Decimal("0.00"),
    ),
    TypeSummary(
        "green", "Green voucher", 20, Decimal("50000.00"), Decimal("0.80"),
        10, 9, 5, Decimal("12000.01"), Decimal("11999.99"),
    ),
    TypeSummary(
        "ip", "IP voucher", 10, Decimal("10000.00"), Decimal("0.5"),
        3, 3, 0, Decimal("0"), Decimal("0"),
    ),
]  # fmt: skip

VOUCHERS = [
    VoucherRow(
        "V-001", "Edelweiss GmbH", "ATU12345678", "AT", "Tyrol", "innovation",
        "Alpine Consulting", "Market study", Decimal("5000.00"), Decimal("4500.50"),
        Decimal("2000.25"), date(2025, 3, 1), "awarded", "submitted",
    ),
    VoucherRow(
        "V-002", "Sava d.o.o.", "SI87654321", "SI", "Gorenjska", "unknown-type",
        None, "Prototype", Decimal("3000"), Decimal("3000"), Decimal("0"),
        None, "awarded", None,
    ),
]  # fmt: skip

APPLICATIONS = [
    ApplicationRow(
        "A-001", "Edelweiss GmbH", "AT", "innovation", "Market study", "approved",
        datetime(2025, 1, 15, 10, 5, tzinfo=timezone(timedelta(hours=1))),
        Decimal("87.50"), 3, "approved",
    ),
    ApplicationRow(
        "A-002", "Draft SME", "DE", "digital", "Idea", "draft", None, None, 0, None,
    ),
]  # fmt: skip

PAYMENTS = [
    PaymentRow(
        date(2025, 4, 2), "V-001", "Edelweiss GmbH", Decimal("2000.25"), "PAY-1",
        "INV-2025-17", date(2025, 3, 20), "Market study, first instalment", Decimal("400.05"),
    ),
    PaymentRow(
        date(2025, 5, 6), "V-" + "9" * 40, "Sava d.o.o.", Decimal("10.10"), "PAY-2",
        "N" * 45, None, "D" * 300,
    ),
]  # fmt: skip

DE_MINIMIS = [
    DeMinimisRow(
        "Edelweiss GmbH", "ATU12345678", date(2025, 3, 1), Decimal("4500.50"),
        Decimal("100000.00"), Decimal("104500.50"),
    ),
]  # fmt: skip


def build(
    meta: WorkbookMeta | None = None,
    summaries=SUMMARIES,
    vouchers=VOUCHERS,
    applications=APPLICATIONS,
    payments=PAYMENTS,
    de_minimis=DE_MINIMIS,
    progress=None,
):
    buffer = io.BytesIO()
    build_budget_workbook(
        buffer,
        meta or make_meta(),
        summaries,
        iter(vouchers),
        iter(applications),
        payments,
        iter(de_minimis),
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
    build_budget_workbook(path, make_meta(), SUMMARIES, [], [], [], [])
    assert load_workbook(path).sheetnames == list(SHEET_NAMES)


@pytest.mark.parametrize(
    ("sheet", "ref"),
    [
        ("Vouchers", "A1:O3"),
        ("Applications", "A1:J3"),
        ("Payments", "A1:E3"),
        ("De minimis", "A1:F2"),
        ("List of expenditure", "A1:M3"),
    ],
)
def test_ledgers_have_frozen_header_filter_and_widths(book, sheet, ref):
    ws = book[sheet]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == ref
    assert all(cell.font.b for cell in ws[1])
    assert ws.column_dimensions["A"].width >= 6
    assert ws.column_dimensions["B"].width >= 15


def test_filter_covers_the_header_when_there_are_no_rows():
    wb = build(vouchers=[], applications=[], payments=[], de_minimis=[])
    assert wb["Vouchers"].auto_filter.ref == "A1:O1"
    assert wb["Applications"].max_row == 1


# ------------------------------------------------------------------------------ summary


def test_summary_rows_per_type(book):
    ws = book["Summary"]
    assert header(ws) == [
        "Voucher type", "Quota", "Applications received", "Submitted", "Awarded",
        "Committed", "Paid", "Outstanding", "Remaining envelope", "Remaining quota",
        "Funding rate",
    ]  # fmt: skip
    rows = data_rows(ws)[: len(SUMMARIES)]
    for row, s in zip(rows, SUMMARIES, strict=True):
        assert row[0] == s.label
        assert row[1:5] == (s.quota, s.applications, s.submitted, s.awarded_count)
        # Cells hold the exact two-decimal figure; comparing as Decimal avoids float slop.
        amounts = [Decimal(str(v)) for v in row[5:9]]
        assert amounts == [s.committed, s.paid, s.committed - s.paid, s.envelope - s.committed]
        assert row[9] == s.quota - s.awarded_count
        assert Decimal(str(row[10])) == s.funding_rate
    first = rows[0]
    assert first[7] == pytest.approx(75000.25)
    assert first[8] == pytest.approx(64999.50)
    assert first[9] == 10


def test_summary_properties():
    s = SUMMARIES[0]
    assert s.outstanding == Decimal("75000.25")
    assert s.remaining_envelope == Decimal("64999.50")
    assert s.remaining_quota == 10


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
        "Provider", "Title", "Requested", "Awarded", "Paid", "Outstanding", "Award date",
        "State", "Final report",
    ]  # fmt: skip
    first, second = data_rows(ws)
    assert first[:8] == (
        "V-001", "Edelweiss GmbH", "ATU12345678", "AT", "Tyrol", "Innovation voucher",
        "Alpine Consulting", "Market study",
    )  # fmt: skip
    assert [Decimal(str(v)) for v in first[8:12]] == [
        Decimal("5000.00"), Decimal("4500.50"), Decimal("2000.25"), Decimal("2500.25"),
    ]  # fmt: skip
    assert first[12] == datetime(2025, 3, 1)
    assert first[13:] == ("awarded", "submitted")
    # Unknown type codes are shown as given; missing values leave the cell empty.
    assert second[5] == "unknown-type"
    assert second[6] is None
    assert second[12] is None
    assert second[14] is None
    assert second[11] == 3000


def test_voucher_formats(book):
    ws = book["Vouchers"]
    for col in "IJKL":
        assert ws[f"{col}2"].number_format == AMOUNT_FORMAT
        assert ws[f"{col}2"].data_type == "n"
    assert ws["M2"].number_format == DATE_FORMAT
    assert ws["M2"].is_date


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
    assert header(ws) == ["Date", "Voucher reference", "SME", "Amount", "Payment reference"]
    first, second = data_rows(ws)
    assert first == (datetime(2025, 4, 2), "V-001", "Edelweiss GmbH", 2000.25, "PAY-1")
    assert second[1] == "V-" + "9" * 40  # cut only where Jems requires it
    assert ws["A2"].number_format == DATE_FORMAT
    assert ws["D2"].number_format == AMOUNT_FORMAT


def test_de_minimis_rows(book):
    ws = book["De minimis"]
    assert header(ws) == [
        "Undertaking", "VAT/registry no.", "Award date", "Aid amount", "Aid declared before",
        "Total over rolling period",
    ]  # fmt: skip
    (row,) = data_rows(ws)
    assert row == (
        "Edelweiss GmbH", "ATU12345678", datetime(2025, 3, 1), 4500.5, 100000, 104500.5,
    )  # fmt: skip
    assert ws["C2"].number_format == DATE_FORMAT
    assert all(ws[f"{c}2"].number_format == AMOUNT_FORMAT for c in "DEF")


def test_list_of_expenditure(book):
    ws = book["List of expenditure"]
    assert header(ws) == [
        "ID", "Cost category", "Internal reference no.", "Invoice no.", "Invoice date",
        "Date of payment", "Description", "Total value incl. VAT", "VAT", "Declared amount",
        "Currency", "Conversion rate", "Declared amount in EUR",
    ]  # fmt: skip
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
    assert rows[3] == ("Filters", "none")


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
    vouchers, applications, de_minimis = (
        OnceOnly(VOUCHERS),
        OnceOnly(APPLICATIONS),
        OnceOnly(DE_MINIMIS),
    )
    buffer = io.BytesIO()
    build_budget_workbook(
        buffer,
        make_meta(),
        iter(SUMMARIES),
        vouchers,
        applications,
        (p for p in PAYMENTS),
        de_minimis,
    )
    wb = load_workbook(buffer)
    assert (vouchers.iterated, applications.iterated, de_minimis.iterated) == (1, 1, 1)
    assert [r[0] for r in data_rows(wb["Vouchers"])] == ["V-001", "V-002"]
    assert [r[0] for r in data_rows(wb["Applications"])] == ["A-001", "A-002"]
    assert len(data_rows(wb["De minimis"])) == 1
    # The generator of payments fed both sheets in full.
    assert [r[4] for r in data_rows(wb["Payments"])] == ["PAY-1", "PAY-2"]
    assert [r[0] for r in data_rows(wb["List of expenditure"])] == [1, 2]


def test_progress_is_reported_every_thousand_rows_and_at_the_end():
    calls = []
    many = (replace(APPLICATIONS[1], reference=f"A-{i}") for i in range(2500))
    wb = build(applications=list(many), progress=calls.append)
    total = len(SUMMARIES) + len(VOUCHERS) + 2500 + 2 * len(PAYMENTS) + len(DE_MINIMIS)
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
    PaymentRow: ("voucher_reference", "sme", "payment_reference", "invoice_number", "description"),
    DeMinimisRow: ("undertaking", "registry_number"),
}  # fmt: skip

# (sheet, row, column letters holding user text, maximum length or None)
_TEXT_CELLS = [
    ("Summary", 2, "A", None),
    ("Vouchers", 2, "ABCDEFGHNO", None),
    ("Applications", 2, "ABCDEFJ", None),
    ("Payments", 2, "BCE", None),
    ("De minimis", 2, "AB", None),
    ("List of expenditure", 2, "B", None),
    ("List of expenditure", 2, "CD", 30),
    ("List of expenditure", 2, "G", 255),
    ("About", 1, "B", None),
    ("About", 2, "B", None),
    ("About", 3, "B", None),
    ("About", 4, "B", None),
    ("About", 6, "B", None),
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
    label = wb["About"]["A4"]
    assert label.data_type == "s"
    assert label.value == "Filter: " + clean_text(text)


@pytest.mark.parametrize("text", NASTY)
def test_text_that_looks_like_a_formula_stays_text_unchanged(text):
    wb = build_with_text(text)
    assert clean_text(text) == text  # nothing to clean: the exact text must come back
    assert_all_text_cells_hold(wb, text)
    # And the file holds no formula except the exporter's own totals.
    for ws in wb.worksheets:
        formulas = [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
        assert formulas == ([f"{col}3" for col in "BCDEFGHIJ"] if ws.title == "Summary" else [])


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
