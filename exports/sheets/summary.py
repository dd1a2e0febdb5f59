"""The Summary sheet: one row per voucher type, live totals, and a chart of the money."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.utils import get_column_letter

from ..cells import string_cell
from ..rows import TypeSummary
from .common import AMOUNT, BOLD, INT, PERCENT, TOTAL, Column, Progress, Sheet

TITLE = "Summary"

COLUMNS = (
    Column("Voucher type", 28),
    Column("Quota", 10, INT),
    Column("Applications received", 14, INT),
    Column("Drafts (not received)", 12, INT),
    Column("Awarded", 12, INT),
    Column("Committed", 18, AMOUNT),
    Column("Paid", 18, AMOUNT),
    Column("Outstanding", 18, AMOUNT),
    Column("Remaining envelope", 18, AMOUNT),
    Column("Remaining quota", 12, INT),
    Column("Funding rate", 10, PERCENT),
)
# Columns B..J hold additive figures; the funding rate (K) is a ratio and is not summed.
SUM_COLUMNS = range(2, 11)
CHART_COLUMNS = (6, 7)  # Committed, Paid
CHART_TITLE = "Committed and paid per voucher type"


def write_summary(
    wb: Workbook,
    summaries: Sequence[TypeSummary],
    *,
    progress: Progress,
    amount_fmt: str,
    headings: Mapping[str, str] | None = None,
    currency: str,
) -> None:
    # One page whatever the printer: the funder reads the Summary as a whole.
    sheet = Sheet(wb, TITLE, COLUMNS, progress, amount_fmt, headings=headings, one_page=True)
    sheet.write_header()
    for s in summaries:
        sheet.write((
            s.label, s.quota, s.received, s.drafts, s.awarded_count, s.committed, s.paid,
            s.outstanding, s.remaining_envelope, s.remaining_quota, s.funding_rate,
        ))

    first, last = 2, len(summaries) + 1
    total: list[Any] = [string_cell(sheet.ws, sheet.heading(TOTAL))]
    total[0].font = BOLD
    for idx in SUM_COLUMNS:
        kind = COLUMNS[idx - 1].kind
        cell = sheet.styled_cell(amount_fmt if kind == AMOUNT else "0", bold=True)
        letter = get_column_letter(idx)
        # A live formula, so that a funder who corrects a figure above sees the total
        # follow. With no voucher types there is nothing to add up: a plain 0 avoids a
        # reversed range such as B2:B1, which spreadsheets would read as B1:B2.
        cell.value = f"=SUM({letter}{first}:{letter}{last})" if summaries else 0
        total.append(cell)
    sheet.append_row(total)

    if summaries:
        sheet.ws.add_chart(_chart(sheet, first, last, amount_fmt, currency), f"A{last + 3}")


def _chart(sheet: Sheet, first: int, last: int, amount_fmt: str, currency: str) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.title = sheet.heading(CHART_TITLE)
    chart.y_axis.title = currency
    chart.y_axis.numFmt = amount_fmt
    # openpyxl 3.1 leaves the axes' delete flag unset, and Excel then hides both axes.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    data = Reference(
        sheet.ws, min_col=CHART_COLUMNS[0], max_col=CHART_COLUMNS[1], min_row=1, max_row=last
    )
    chart.add_data(data, titles_from_data=True)
    # Categories are the type labels; set_categories would declare them numeric
    # (numRef), which readers tolerate but a text reference states what they are.
    categories = Reference(sheet.ws, min_col=1, min_row=first, max_row=last)
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(categories)))
    chart.width = 22
    chart.height = 10
    return chart
