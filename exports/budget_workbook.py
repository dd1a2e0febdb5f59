"""The funder's budget workbook, built from plain data.

This module knows nothing about Flask or the database: callers turn their query results
into the frozen rows below and hand them over, which keeps the layout testable without an
application and lets a background job stream 100,000 applications straight from a cursor.

The workbook is written with openpyxl's write-only mode so memory stays flat whatever the
number of rows: each row is serialised as soon as it is appended. That mode has two
consequences visible in the code: styles cannot be set per column, only per cell, and
everything that precedes ``<sheetData>`` in the XML (column widths, frozen panes) has to be
set before the first row, while the autofilter, which follows the rows, is set last.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .cells import clean_text, string_cell, text_value

__all__ = [
    "AMOUNT_FORMAT",
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "JEMS_DESCRIPTION_LENGTH",
    "JEMS_REFERENCE_LENGTH",
    "PERCENT_FORMAT",
    "SHEET_NAMES",
    "ApplicationRow",
    "DeMinimisRow",
    "PaymentRow",
    "TypeSummary",
    "VoucherRow",
    "WorkbookMeta",
    "amount_format",
    "build_budget_workbook",
]


def amount_format(currency: str) -> str:
    # "[$EUR]" is a currency tag that Excel and LibreOffice both render as "1,234.50 EUR"
    # regardless of the reader's locale, unlike a bare "€" whose position varies.
    return f"#,##0.00 [${currency}]"


AMOUNT_FORMAT = amount_format("EUR")
# ISO dates: the funder's staff sit in several countries and d/m versus m/d is ambiguous.
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
SCORE_FORMAT = "0.00"
# Commission rates carry up to six decimals; EUR shows as 1.0000 rather than 1.000000.
RATE_FORMAT = "0.0000##"

# Field widths of the Jems partner report's list of expenditure; longer text is rejected
# when the list is pasted or imported there.
JEMS_REFERENCE_LENGTH = 30
JEMS_DESCRIPTION_LENGTH = 255

SHEET_NAMES = (
    "Summary",
    "Vouchers",
    "Applications",
    "Payments",
    "De minimis",
    "List of expenditure",
    "About",
)

_EXCEL_MAX_ROWS = 1_048_576
_PROGRESS_EVERY = 1000
_CURRENCY_RE = re.compile(r"[A-Z]{3}")


# ---------------------------------------------------------------------------- input rows


@dataclass(frozen=True, kw_only=True)
class WorkbookMeta:
    programme: str
    funder: str
    call: str
    currency: str = "EUR"
    filters: Sequence[tuple[str, str]] = field(default_factory=list)
    generated_at: datetime
    generated_by: str
    cost_category: str = "External expertise and services"

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None or self.generated_at.utcoffset() is None:
            raise ValueError("generated_at must be timezone-aware (UTC)")
        # The code ends up inside a number format string, so only ISO 4217 shapes pass.
        if not _CURRENCY_RE.fullmatch(self.currency):
            raise ValueError(f"currency must be an ISO 4217 code, got {self.currency!r}")


@dataclass(frozen=True, slots=True)
class TypeSummary:
    voucher_type: str
    label: str
    quota: int
    envelope: Decimal
    funding_rate: Decimal
    applications: int
    submitted: int
    awarded_count: int
    committed: Decimal
    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.committed - self.paid

    @property
    def remaining_envelope(self) -> Decimal:
        return self.envelope - self.committed

    @property
    def remaining_quota(self) -> int:
        return self.quota - self.awarded_count


@dataclass(frozen=True, slots=True)
class VoucherRow:
    reference: str
    sme: str
    registry_number: str
    country: str
    region: str
    voucher_type: str
    provider: str | None
    title: str
    requested: Decimal
    awarded: Decimal
    paid: Decimal
    award_date: date | None
    state: str
    report_state: str | None


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    reference: str
    sme: str
    country: str
    voucher_type: str
    title: str
    state: str
    submitted_at: datetime | None
    weighted_score: Decimal | None
    review_count: int
    decision: str | None


@dataclass(frozen=True, slots=True)
class PaymentRow:
    paid_on: date
    voucher_reference: str
    sme: str
    amount: Decimal
    payment_reference: str
    invoice_number: str | None
    invoice_date: date | None
    description: str
    vat: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class DeMinimisRow:
    undertaking: str
    registry_number: str
    award_date: date
    aid_amount: Decimal
    declared_before: Decimal
    rolling_total: Decimal


# ------------------------------------------------------------------------- sheet writing

_TEXT, _INT, _AMOUNT, _DATE, _DATETIME, _SCORE, _PERCENT, _RATE = range(8)

_FORMATS = {
    _DATE: DATE_FORMAT,
    _DATETIME: DATETIME_FORMAT,
    _SCORE: SCORE_FORMAT,
    _PERCENT: PERCENT_FORMAT,
    _RATE: RATE_FORMAT,
}

_BOLD = Font(bold=True)
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    width: float
    kind: int = _TEXT
    max_length: int | None = None


class _Progress:
    """Counts data rows over all sheets and reports every ``_PROGRESS_EVERY`` rows."""

    def __init__(self, callback: Callable[[int], Any] | None) -> None:
        self.callback = callback
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        if self.callback is not None and self.done % _PROGRESS_EVERY == 0:
            self.callback(self.done)

    def finish(self) -> None:
        if self.callback is not None and self.done % _PROGRESS_EVERY:
            self.callback(self.done)


def _utc_naive(value: datetime) -> datetime:
    # Spreadsheet cells have no time zone (openpyxl refuses aware datetimes); the sheets
    # label these columns "(UTC)", so aware values are converted and naive ones are taken
    # to be UTC already, as the database stores them.
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


class _Sheet:
    """A write-only sheet with a bold frozen header and typed columns.

    Number and date cells need a number format, and write-only mode can only style
    individual cells. Creating a styled cell per value would dominate the build time, so
    each formatted column owns one cell that is refilled for every row: ``ws.append``
    serialises the row before returning, so the cell is free again by the next row.
    """

    def __init__(
        self,
        wb: Workbook,
        title: str,
        columns: Sequence[_Column],
        progress: _Progress,
        amount_fmt: str,
    ) -> None:
        self.ws = ws = wb.create_sheet(title)
        self.columns = columns
        self.progress = progress
        self.amount_fmt = amount_fmt
        self.row_count = 0
        for idx, column in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(idx)].width = column.width
        ws.freeze_panes = "A2"
        self._converters = [self._converter(column) for column in columns]

    def styled_cell(self, number_format: str, *, bold: bool = False) -> Cell:
        cell = WriteOnlyCell(self.ws)
        cell.number_format = number_format
        if bold:
            cell.font = _BOLD
        return cell

    def _converter(self, column: _Column) -> Callable[[Any], Any]:
        ws = self.ws
        if column.kind == _TEXT:
            max_length = column.max_length
            return lambda value: text_value(ws, value, max_length)
        if column.kind == _INT:
            return _identity
        if column.kind == _AMOUNT:
            cell = self.styled_cell(self.amount_fmt)
        else:
            cell = self.styled_cell(_FORMATS[column.kind])
        if column.kind == _DATETIME:
            return lambda value: _fill(cell, None if value is None else _utc_naive(value))
        return lambda value: _fill(cell, value)

    def write_header(self) -> None:
        header = []
        for column in self.columns:
            cell = string_cell(self.ws, column.header)
            cell.font = _BOLD
            cell.alignment = _HEADER_ALIGNMENT
            header.append(cell)
        self.append_row(header)

    def write(self, values: Sequence[Any]) -> None:
        self.append_row([convert(v) for convert, v in zip(self._converters, values, strict=True)])
        self.progress.tick()

    def append_row(self, row: list[Any]) -> None:
        if self.row_count >= _EXCEL_MAX_ROWS:
            raise ValueError(
                f"sheet {self.ws.title!r} would exceed Excel's {_EXCEL_MAX_ROWS:,} rows"
            )
        self.ws.append(row)
        self.row_count += 1

    def finish_with_filter(self) -> None:
        last_col = get_column_letter(len(self.columns))
        self.ws.auto_filter.ref = f"A1:{last_col}{max(self.row_count, 1)}"


def _identity(value: Any) -> Any:
    return value


def _fill(cell: Cell, value: Any) -> Cell | None:
    if value is None:
        return None
    cell.value = value
    return cell


# ------------------------------------------------------------------------------ sheets

_SUMMARY_COLUMNS = (
    _Column("Voucher type", 28),
    _Column("Quota", 10, _INT),
    _Column("Applications received", 14, _INT),
    _Column("Submitted", 12, _INT),
    _Column("Awarded", 12, _INT),
    _Column("Committed", 18, _AMOUNT),
    _Column("Paid", 18, _AMOUNT),
    _Column("Outstanding", 18, _AMOUNT),
    _Column("Remaining envelope", 18, _AMOUNT),
    _Column("Remaining quota", 12, _INT),
    _Column("Funding rate", 10, _PERCENT),
)
# Columns B..J hold additive figures; the funding rate (K) is a ratio and is not summed.
_SUMMARY_SUM_COLUMNS = range(2, 11)
_SUMMARY_CHART_COLUMNS = (6, 7)  # Committed, Paid

_VOUCHER_COLUMNS = (
    _Column("Reference", 16),
    _Column("SME", 32),
    _Column("VAT/registry no.", 18),
    _Column("Country", 8),
    _Column("Region", 20),
    _Column("Voucher type", 22),
    _Column("Provider", 28),
    _Column("Title", 40),
    _Column("Requested", 15, _AMOUNT),
    _Column("Awarded", 15, _AMOUNT),
    _Column("Paid", 15, _AMOUNT),
    _Column("Outstanding", 15, _AMOUNT),
    _Column("Award date", 12, _DATE),
    _Column("State", 14),
    _Column("Final report", 14),
)

_APPLICATION_COLUMNS = (
    _Column("Reference", 16),
    _Column("SME", 32),
    _Column("Country", 8),
    _Column("Voucher type", 22),
    _Column("Title", 40),
    _Column("State", 14),
    _Column("Submitted at (UTC)", 17, _DATETIME),
    _Column("Weighted score", 10, _SCORE),
    _Column("Reviews", 9, _INT),
    _Column("Decision", 14),
)

_PAYMENT_COLUMNS = (
    _Column("Date", 12, _DATE),
    _Column("Voucher reference", 18),
    _Column("SME", 32),
    _Column("Amount", 15, _AMOUNT),
    _Column("Payment reference", 22),
)

_DE_MINIMIS_COLUMNS = (
    _Column("Undertaking", 32),
    _Column("VAT/registry no.", 18),
    _Column("Award date", 12, _DATE),
    _Column("Aid amount", 15, _AMOUNT),
    _Column("Aid declared before", 15, _AMOUNT),
    _Column("Total over rolling period", 17, _AMOUNT),
)

_EXPENDITURE_COLUMNS = (
    _Column("ID", 6, _INT),
    _Column("Cost category", 30),
    _Column("Internal reference no.", 18, max_length=JEMS_REFERENCE_LENGTH),
    _Column("Invoice no.", 18, max_length=JEMS_REFERENCE_LENGTH),
    _Column("Invoice date", 12, _DATE),
    _Column("Date of payment", 12, _DATE),
    _Column("Description", 50, max_length=JEMS_DESCRIPTION_LENGTH),
    _Column("Total value incl. VAT", 15, _AMOUNT),
    _Column("VAT", 13, _AMOUNT),
    _Column("Declared amount", 15, _AMOUNT),
    _Column("Currency", 9),
    _Column("Conversion rate", 11, _RATE),
    _Column("Declared amount in EUR", 15, _AMOUNT),
)


def _write_summary(
    wb: Workbook,
    summaries: list[TypeSummary],
    progress: _Progress,
    amount_fmt: str,
    currency: str,
) -> None:
    sheet = _Sheet(wb, "Summary", _SUMMARY_COLUMNS, progress, amount_fmt)
    sheet.write_header()
    for s in summaries:
        sheet.write(
            (
                s.label,
                s.quota,
                s.applications,
                s.submitted,
                s.awarded_count,
                s.committed,
                s.paid,
                s.outstanding,
                s.remaining_envelope,
                s.remaining_quota,
                s.funding_rate,
            )
        )

    first, last = 2, len(summaries) + 1
    total: list[Any] = [string_cell(sheet.ws, "Total")]
    total[0].font = _BOLD
    for idx in _SUMMARY_SUM_COLUMNS:
        kind = _SUMMARY_COLUMNS[idx - 1].kind
        cell = sheet.styled_cell(amount_fmt if kind == _AMOUNT else "0", bold=True)
        letter = get_column_letter(idx)
        # A live formula, so that a funder who corrects a figure above sees the total
        # follow. With no voucher types there is nothing to add up: a plain 0 avoids a
        # reversed range such as B2:B1, which spreadsheets would read as B1:B2.
        cell.value = f"=SUM({letter}{first}:{letter}{last})" if summaries else 0
        total.append(cell)
    sheet.append_row(total)

    if summaries:
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "clustered"
        chart.title = "Committed and paid per voucher type"
        chart.y_axis.title = currency
        chart.y_axis.numFmt = amount_fmt
        # openpyxl 3.1 leaves the axes' delete flag unset, and Excel then hides both axes.
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        data = Reference(
            sheet.ws,
            min_col=_SUMMARY_CHART_COLUMNS[0],
            max_col=_SUMMARY_CHART_COLUMNS[1],
            min_row=1,
            max_row=last,
        )
        chart.add_data(data, titles_from_data=True)
        # Categories are the type labels; set_categories would declare them numeric
        # (numRef), which readers tolerate but a text reference states what they are.
        categories = Reference(sheet.ws, min_col=1, min_row=first, max_row=last)
        for series in chart.series:
            series.cat = AxDataSource(strRef=StrRef(f=str(categories)))
        chart.width = 22
        chart.height = 10
        sheet.ws.add_chart(chart, f"A{last + 3}")


def _write_vouchers(
    wb: Workbook,
    vouchers: Iterable[VoucherRow],
    labels: dict[str, str],
    progress: _Progress,
    amount_fmt: str,
) -> None:
    sheet = _Sheet(wb, "Vouchers", _VOUCHER_COLUMNS, progress, amount_fmt)
    sheet.write_header()
    write = sheet.write
    for v in vouchers:
        write(
            (
                v.reference,
                v.sme,
                v.registry_number,
                v.country,
                v.region,
                labels.get(v.voucher_type, v.voucher_type),
                v.provider,
                v.title,
                v.requested,
                v.awarded,
                v.paid,
                v.awarded - v.paid,
                v.award_date,
                v.state,
                v.report_state,
            )
        )
    sheet.finish_with_filter()


def _write_applications(
    wb: Workbook,
    applications: Iterable[ApplicationRow],
    labels: dict[str, str],
    progress: _Progress,
    amount_fmt: str,
) -> None:
    sheet = _Sheet(wb, "Applications", _APPLICATION_COLUMNS, progress, amount_fmt)
    sheet.write_header()
    write = sheet.write
    for a in applications:
        write(
            (
                a.reference,
                a.sme,
                a.country,
                labels.get(a.voucher_type, a.voucher_type),
                a.title,
                a.state,
                a.submitted_at,
                a.weighted_score,
                a.review_count,
                a.decision,
            )
        )
    sheet.finish_with_filter()


def _write_payments(
    wb: Workbook, payments: Sequence[PaymentRow], progress: _Progress, amount_fmt: str
) -> None:
    sheet = _Sheet(wb, "Payments", _PAYMENT_COLUMNS, progress, amount_fmt)
    sheet.write_header()
    write = sheet.write
    for p in payments:
        write((p.paid_on, p.voucher_reference, p.sme, p.amount, p.payment_reference))
    sheet.finish_with_filter()


def _write_de_minimis(
    wb: Workbook, rows: Iterable[DeMinimisRow], progress: _Progress, amount_fmt: str
) -> None:
    sheet = _Sheet(wb, "De minimis", _DE_MINIMIS_COLUMNS, progress, amount_fmt)
    sheet.write_header()
    write = sheet.write
    for d in rows:
        write(
            (
                d.undertaking,
                d.registry_number,
                d.award_date,
                d.aid_amount,
                d.declared_before,
                d.rolling_total,
            )
        )
    sheet.finish_with_filter()


def _write_expenditure(
    wb: Workbook,
    payments: Sequence[PaymentRow],
    meta: WorkbookMeta,
    progress: _Progress,
    amount_fmt: str,
) -> None:
    sheet = _Sheet(wb, "List of expenditure", _EXPENDITURE_COLUMNS, progress, amount_fmt)
    sheet.write_header()
    in_euro = meta.currency == "EUR"
    # Jems converts with the Commission's monthly rate, which this system does not hold;
    # for another currency the rate and the euro amount are left for the partner to fill.
    rate = Decimal("1") if in_euro else None
    write = sheet.write
    for number, p in enumerate(payments, 1):
        # A voucher payment is the net amount the programme pays out, so it is what is
        # declared; VAT is recorded on top of it and is not declared, being recoverable
        # (non-recoverable VAT would have been included in the payment amount itself).
        declared = p.amount
        write(
            (
                number,
                meta.cost_category,
                p.voucher_reference,
                p.invoice_number,
                p.invoice_date,
                p.paid_on,
                p.description,
                p.amount + p.vat,
                p.vat,
                declared,
                meta.currency,
                rate,
                declared if in_euro else None,
            )
        )
    sheet.finish_with_filter()


def _write_about(wb: Workbook, meta: WorkbookMeta) -> None:
    ws = wb.create_sheet("About")
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 60

    def label(text: str) -> Cell:
        cell = string_cell(ws, text)
        cell.font = _BOLD
        return cell

    ws.append([label("Programme"), text_value(ws, meta.programme)])
    ws.append([label("Funder"), text_value(ws, meta.funder)])
    ws.append([label("Call"), text_value(ws, meta.call)])
    if meta.filters:
        for name, value in meta.filters:
            ws.append([label(f"Filter: {clean_text(name)}"), text_value(ws, value)])
    else:
        ws.append([label("Filters"), text_value(ws, "none")])
    generated = WriteOnlyCell(ws)
    generated.number_format = "yyyy-mm-dd hh:mm:ss"
    generated.value = _utc_naive(meta.generated_at)
    generated.alignment = Alignment(horizontal="left")
    ws.append([label("Generated at (UTC)"), generated])
    ws.append([label("Generated by"), text_value(ws, meta.generated_by)])


# ------------------------------------------------------------------------------- entry


def build_budget_workbook(
    target: str | os.PathLike[str] | IO[bytes],
    meta: WorkbookMeta,
    summaries: Iterable[TypeSummary],
    vouchers: Iterable[VoucherRow],
    applications: Iterable[ApplicationRow],
    payments: Iterable[PaymentRow],
    de_minimis: Iterable[DeMinimisRow],
    progress: Callable[[int], Any] | None = None,
) -> None:
    """Write the funder's workbook to ``target`` (a path or a binary file object).

    ``vouchers``, ``applications`` and ``de_minimis`` are consumed exactly once and may be
    generators over a server-side cursor. ``payments`` feeds two sheets, so a non-sequence
    is materialised first. ``progress`` is called with the number of data rows written so
    far every 1,000 rows and once at the end.

    Voucher type codes in vouchers and applications are shown with the label of the
    matching summary; a code without a summary is shown as it is.
    """
    summaries = list(summaries)
    if not isinstance(payments, Sequence):
        payments = list(payments)
    labels = {s.voucher_type: s.label for s in summaries}
    amount_fmt = amount_format(meta.currency)
    counter = _Progress(progress)

    wb = Workbook(write_only=True)
    generated_at = _utc_naive(meta.generated_at)
    wb.properties.title = clean_text(f"{meta.programme} – budget workbook ({meta.call})")
    wb.properties.subject = clean_text(meta.funder)
    wb.properties.creator = clean_text(meta.generated_by)
    wb.properties.created = generated_at
    wb.properties.modified = generated_at

    _write_summary(wb, summaries, counter, amount_fmt, meta.currency)
    _write_vouchers(wb, vouchers, labels, counter, amount_fmt)
    _write_applications(wb, applications, labels, counter, amount_fmt)
    _write_payments(wb, payments, counter, amount_fmt)
    _write_de_minimis(wb, de_minimis, counter, amount_fmt)
    _write_expenditure(wb, payments, meta, counter, amount_fmt)
    _write_about(wb, meta)
    wb.save(target)
    counter.finish()
