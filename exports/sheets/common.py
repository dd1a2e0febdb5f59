"""What every sheet shares: number formats, typed columns, the write-only sheet, printing.

openpyxl's write-only mode keeps memory flat whatever the number of rows: each row is
serialised as soon as it is appended. That mode has two consequences visible here: styles
cannot be set per column, only per cell, and everything that precedes ``<sheetData>`` in
the XML (column widths, frozen panes, the fit-to-page flag) has to be set before the first
row, while the autofilter, which follows the rows, is set last.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from ..cells import string_cell, text_value


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

# The funder's offices print on A4 (openpyxl's paper size code 9).
PAPER_A4 = "9"

EXCEL_MAX_ROWS = 1_048_576
PROGRESS_EVERY = 1000

TEXT, INT, AMOUNT, DATE, DATETIME, SCORE, PERCENT, RATE = range(8)

_FORMATS = {
    DATE: DATE_FORMAT,
    DATETIME: DATETIME_FORMAT,
    SCORE: SCORE_FORMAT,
    PERCENT: PERCENT_FORMAT,
    RATE: RATE_FORMAT,
}

# The label of a totals row, and the words of a yes/no cell: in the reader's language like
# the headings (``Sheet.heading``).
TOTAL = "Total"
YES, NO = "Yes", "No"

BOLD = Font(bold=True)
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    width: float
    kind: int = TEXT
    max_length: int | None = None


class Progress:
    """Counts data rows over all sheets and reports every ``PROGRESS_EVERY`` rows."""

    def __init__(self, callback: Callable[[int], Any] | None) -> None:
        self.callback = callback
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        if self.callback is not None and self.done % PROGRESS_EVERY == 0:
            self.callback(self.done)

    def finish(self) -> None:
        if self.callback is not None and self.done % PROGRESS_EVERY:
            self.callback(self.done)


def utc_naive(value: datetime) -> datetime:
    # Spreadsheet cells have no time zone (openpyxl refuses aware datetimes); the sheets
    # label these columns "(UTC)", so aware values are converted and naive ones are taken
    # to be UTC already, as the database stores them. Cut to the second: a cell holds a
    # day fraction, and microseconds near a whole second came back rounded up to it, one
    # second later than the audit record says.
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def set_print_layout(ws, *, one_page: bool = False) -> None:
    """Landscape A4, as wide as one page, the header row repeated on every printed page.

    ``one_page`` also fits the height, for a sheet that must not be split (the Summary).
    A fit height of 0 means "as many pages as the rows need". Must run before the first
    row: the fit-to-page flag sits in the sheet properties, written ahead of the rows.
    """
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


class _StyledRowsWorksheet(WriteOnlyWorksheet):
    """openpyxl's write-only sheet, turning a row into cells without a failed conversion.

    openpyxl first tries every appended value as a cell's value and takes it as a cell
    only once that raised ValueError, whose message formats the cell: for a sheet whose
    numbers and dates are all styled cells, that exception was a sixth of the build
    (bench/bench_workbook.py). Here a Cell is recognised first; everything else is set on
    one plain cell, exactly as openpyxl does. The sheets write no hyperlinks, the one
    other thing openpyxl's version handles.
    """

    def _values_to_row(self, values, row_idx):
        plain = WriteOnlyCell(self)
        for col_idx, value in enumerate(values, 1):
            if value is None:
                continue
            if isinstance(value, Cell):
                cell = value
            else:
                plain.value = value
                cell = plain
            cell.column = col_idx
            cell.row = row_idx
            yield cell


def create_sheet(wb: Workbook, title: str) -> WriteOnlyWorksheet:
    """A write-only sheet of ``wb`` that takes styled cells at full speed."""
    ws = _StyledRowsWorksheet(parent=wb, title=title)
    wb._add_sheet(ws)
    return ws


class Sheet:
    """A write-only sheet with a bold frozen header, typed columns and the print layout.

    Number and date cells need a number format, and write-only mode can only style
    individual cells. Creating a styled cell per value would dominate the build time, so
    each formatted column owns one cell that is refilled for every row: ``ws.append``
    serialises the row before returning, so the cell is free again by the next row.
    """

    def __init__(
        self,
        wb: Workbook,
        title: str,
        columns: Sequence[Column],
        progress: Progress,
        amount_fmt: str,
        *,
        one_page: bool = False,
        headings: Mapping[str, str] | None = None,
    ) -> None:
        self.ws = ws = create_sheet(wb, title)
        self.columns = columns
        # English heading -> the reader's language (the caller's catalogue); a heading
        # missing from it stays English.
        self.headings = headings or {}
        self.progress = progress
        self.amount_fmt = amount_fmt
        self.row_count = 0
        for idx, column in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(idx)].width = column.width
        ws.freeze_panes = "A2"
        set_print_layout(ws, one_page=one_page)
        self._converters = [self._converter(column) for column in columns]

    def styled_cell(self, number_format: str, *, bold: bool = False) -> Cell:
        cell = WriteOnlyCell(self.ws)
        cell.number_format = number_format
        if bold:
            cell.font = BOLD
        return cell

    def _converter(self, column: Column) -> Callable[[Any], Any]:
        ws = self.ws
        if column.kind == TEXT:
            max_length = column.max_length
            return lambda value: text_value(ws, value, max_length)
        if column.kind == INT:
            return _identity
        if column.kind == AMOUNT:
            cell = self.styled_cell(self.amount_fmt)
        else:
            cell = self.styled_cell(_FORMATS[column.kind])
        if column.kind == DATETIME:
            return lambda value: _fill(cell, None if value is None else utc_naive(value))
        return lambda value: _fill(cell, value)

    def heading(self, text: str) -> str:
        """``text`` (a heading or label of the sheet, in English) in the reader's language."""
        return self.headings.get(text, text)

    def write_header(self) -> None:
        header = []
        for column in self.columns:
            cell = string_cell(self.ws, self.heading(column.header))
            cell.font = BOLD
            cell.alignment = _HEADER_ALIGNMENT
            header.append(cell)
        self.append_row(header)

    def write(self, values: Sequence[Any]) -> None:
        self.append_row([convert(v) for convert, v in zip(self._converters, values, strict=True)])
        self.progress.tick()

    def append_row(self, row: list[Any]) -> None:
        if self.row_count >= EXCEL_MAX_ROWS:
            raise ValueError(
                f"sheet {self.ws.title!r} would exceed Excel's {EXCEL_MAX_ROWS:,} rows"
            )
        self.ws.append(row)
        self.row_count += 1

    def finish_with_filter(self) -> None:
        last_col = get_column_letter(len(self.columns))
        self.ws.auto_filter.ref = f"A1:{last_col}{max(self.row_count, 1)}"

    def bold_text(self, text: str) -> Cell:
        cell = string_cell(self.ws, text)
        cell.font = BOLD
        return cell

    def formula_cell(self, formula: str | int, kind: int) -> Cell:
        """A bold cell of this sheet's format for ``kind`` holding ``formula``."""
        number_format = (self.amount_fmt if kind == AMOUNT else "0" if kind == INT
                         else _FORMATS.get(kind, "General"))
        cell = self.styled_cell(number_format, bold=True)
        cell.value = formula
        return cell

    def write_totals(self, label: str = TOTAL, only: Sequence[str] | None = None) -> None:
        """A bold row of live sums under the data rows, for every amount and count column.

        Outside the autofilter (set first, over the data rows), so sorting the list never
        moves it. A live formula, as on the Summary, so that a figure corrected above is
        followed; with no data rows a plain 0 avoids a reversed range such as J2:J1.
        ``only`` names the columns to add up (by their English headings), where not every
        amount is additive. ``label`` is English too, shown in the reader's language.
        """
        self.finish_with_filter()
        first, last = 2, self.row_count
        row: list[Any] = [self.bold_text(self.heading(label))]
        for idx, column in enumerate(self.columns[1:], 2):
            if column.kind not in (AMOUNT, INT) or (only is not None
                                                    and column.header not in only):
                row.append(None)
                continue
            letter = get_column_letter(idx)
            formula = f"=SUM({letter}{first}:{letter}{last})" if last >= first else 0
            row.append(self.formula_cell(formula, column.kind))
        self.append_row(row)


def _identity(value: Any) -> Any:
    return value


def _fill(cell: Cell, value: Any) -> Cell | None:
    if value is None:
        return None
    cell.value = value
    return cell
