"""The Vouchers sheet: one row per voucher awarded, cancelled ones included, with totals.

A cancelled voucher stays listed: its award and release are in the Ledger sheet, and an
advance it was paid stays committed (and due back) until recovered, so without it the
columns would not add up to the Summary. Committed is a live formula, awarded less
released, the one definition of what a voucher holds of its envelope; the totals row sums
every money column with live formulas too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from ..rows import VoucherRow
from .common import AMOUNT, DATE, Column, Progress, Sheet

TITLE = "Vouchers"

COLUMNS = (
    Column("Reference", 16),
    Column("SME", 32),
    Column("VAT/registry no.", 18),
    Column("Country", 8),
    Column("Region", 20),
    Column("Voucher type", 22),
    Column("Provider", 28),
    Column("Title", 40),
    Column("Requested", 15, AMOUNT),
    Column("Awarded", 15, AMOUNT),
    Column("Released", 15, AMOUNT),
    Column("Committed", 15, AMOUNT),
    Column("Paid", 15, AMOUNT),
    Column("Outstanding", 15, AMOUNT),
    Column("Recovery due", 15, AMOUNT),
    Column("Award date", 12, DATE),
    Column("State", 14),
    Column("Final report", 14),
)
_AWARDED, _RELEASED = (get_column_letter(COLUMNS.index(c) + 1) for c in COLUMNS
                       if c.header in ("Awarded", "Released"))


def write_vouchers(
    wb: Workbook,
    vouchers: Iterable[VoucherRow],
    *,
    labels: Mapping[str, str],
    progress: Progress,
    amount_fmt: str,
    headings: Mapping[str, str] | None = None,
) -> None:
    sheet = Sheet(wb, TITLE, COLUMNS, progress, amount_fmt, headings=headings)
    sheet.write_header()
    write = sheet.write
    for v in vouchers:
        row = sheet.row_count + 1
        write((
            v.reference, v.sme, v.registry_number, v.country, v.region,
            labels.get(v.voucher_type, v.voucher_type), v.provider, v.title, v.requested,
            v.awarded, v.released, f"={_AWARDED}{row}-{_RELEASED}{row}", v.paid,
            v.outstanding, v.recovery_due, v.award_date, v.state, v.report_state,
        ))
    sheet.write_totals()
