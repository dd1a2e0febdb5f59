"""The Payments sheet: every payment on the listed vouchers, by date, reversed ones too.

A reversed payment is never removed (a correction does not edit history): it is marked,
and its reversal, like every recovery, is a row of the Ledger sheet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from openpyxl import Workbook

from ..rows import PaymentRow
from .common import AMOUNT, DATE, NO, YES, Column, Progress, Sheet

TITLE = "Payments"

COLUMNS = (
    Column("Date", 12, DATE),
    Column("Voucher reference", 18),
    Column("SME", 32),
    Column("Kind", 10),
    Column("Amount", 15, AMOUNT),
    Column("Payment reference", 22),
    Column("Reversed", 10),
)


def write_payments(
    wb: Workbook, payments: Iterable[PaymentRow], *, progress: Progress, amount_fmt: str,
    headings: Mapping[str, str] | None = None,
) -> None:
    sheet = Sheet(wb, TITLE, COLUMNS, progress, amount_fmt, headings=headings)
    sheet.write_header()
    write = sheet.write
    yes, no = sheet.heading(YES), sheet.heading(NO)
    for p in payments:
        write((p.paid_on, p.voucher_reference, p.sme, p.kind, p.amount, p.payment_reference,
               yes if p.reversed else no))
    sheet.finish_with_filter()
