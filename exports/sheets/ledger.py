"""The Ledger sheet: every movement of money on the listed vouchers, in booking order.

Each entry moves up to three figures by signed amounts: committed (what the voucher holds
of its envelope: + at the award, - at a release), paid (+ an advance or payment, - a
reversal or recovery) and quota (+1 at the award, -1 when the place returns). Under the
entries a totals row, then one row per voucher type with the type's sums; when the sheet
holds every entry of the Summary's types (no award-date filter), those rows set the
Summary's committed, paid and awarded next to them and say whether they agree, with live
formulas, so the funder sees that the budget figures are the ledger's sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook

from ..rows import LedgerRow, TypeSummary
from .common import AMOUNT, DATE, DATETIME, INT, NO, TEXT, YES, Column, Progress, Sheet

TITLE = "Ledger"

COLUMNS = (
    Column("Date booked", 12, DATE),
    Column("Voucher reference", 18),
    Column("SME", 32),
    Column("Voucher type", 22),
    Column("Kind", 12),
    Column("Committed change", 16, AMOUNT),
    Column("Paid change", 16, AMOUNT),
    Column("Quota change", 10, INT),
    Column("Reason", 40),
    Column("Reference", 20),
    Column("Recorded by", 28),
    Column("Recorded at (UTC)", 17, DATETIME),
)
_TYPE, _COMMITTED, _PAID, _QUOTA = "D", "F", "G", "H"
# The Summary's columns the per-type rows compare with (exports/sheets/summary.py).
SUMMARY_AWARDED, SUMMARY_COMMITTED, SUMMARY_PAID = "E", "F", "G"
# The per-type rows' own headings, in the columns of the figures they hold.
BY_TYPE_HEADINGS = {1: "Per voucher type", 6: "Committed", 7: "Paid", 8: "Quota",
                    9: "Summary: committed", 10: "Summary: paid", 11: "Summary: awarded",
                    12: "Agrees with the Summary"}
_BY_TYPE_SUMS = 8  # the columns up to the quota's; the Summary's figures follow


def write_ledger(
    wb: Workbook,
    entries: Iterable[LedgerRow],
    *,
    summaries: Sequence[TypeSummary],
    labels: Mapping[str, str],
    reconcile: bool,
    progress: Progress,
    amount_fmt: str,
    headings: Mapping[str, str] | None = None,
) -> None:
    sheet = Sheet(wb, TITLE, COLUMNS, progress, amount_fmt, headings=headings)
    sheet.write_header()
    write = sheet.write
    for e in entries:
        write((
            e.booked_on, e.voucher_reference, e.sme, labels.get(e.voucher_type, e.voucher_type),
            e.kind, e.committed, e.paid, e.quota, e.reason, e.reference, e.recorded_by,
            e.recorded_at,
        ))
    last = sheet.row_count
    sheet.write_totals()
    _write_by_type(sheet, summaries, labels, last, reconcile)


def _write_by_type(sheet: Sheet, summaries: Sequence[TypeSummary], labels: Mapping[str, str],
                   last: int, reconcile: bool) -> None:
    sheet.append_row([])
    width = max(BY_TYPE_HEADINGS) if reconcile else _BY_TYPE_SUMS
    sheet.append_row([sheet.bold_text(sheet.heading(BY_TYPE_HEADINGS[idx]))
                      if idx in BY_TYPE_HEADINGS else None for idx in range(1, width + 1)])
    # The formula's own words, as a string literal of it (a quote doubled).
    yes, no = (sheet.heading(word).replace('"', '""') for word in (YES, NO))
    for position, s in enumerate(summaries):
        row = sheet.row_count + 1
        label = labels.get(s.voucher_type, s.label)

        def of_type(column: str, row=row) -> str | int:
            # SUMPRODUCT compares the cells as they are: a SUMIF criterion would read a
            # label such as "=Travel" or "R&D*" as an operator or a wildcard.
            if last < 2:
                return 0
            return (f"=SUMPRODUCT((${_TYPE}$2:${_TYPE}${last}=$A{row})"
                    f"*{column}$2:{column}${last})")

        cells: list[Any] = [
            sheet.bold_text(label), None, None, None, None,
            sheet.formula_cell(of_type(_COMMITTED), AMOUNT),
            sheet.formula_cell(of_type(_PAID), AMOUNT),
            sheet.formula_cell(of_type(_QUOTA), INT),
        ]
        if reconcile:
            summary_row = position + 2
            cells += [
                sheet.formula_cell(f"='Summary'!{SUMMARY_COMMITTED}{summary_row}", AMOUNT),
                sheet.formula_cell(f"='Summary'!{SUMMARY_PAID}{summary_row}", AMOUNT),
                sheet.formula_cell(f"='Summary'!{SUMMARY_AWARDED}{summary_row}", INT),
                sheet.formula_cell(
                    f'=IF(AND(ROUND({_COMMITTED}{row}-I{row},2)=0,'
                    f'ROUND({_PAID}{row}-J{row},2)=0,{_QUOTA}{row}=K{row}),"{yes}","{no}")',
                    TEXT),
            ]
        sheet.append_row(cells)

