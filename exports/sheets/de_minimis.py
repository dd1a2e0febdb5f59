"""The De minimis sheet: each voucher as aid, with the undertaking's rolling total."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl import Workbook

from ..rows import DeMinimisRow
from .common import AMOUNT, DATE, Column, Progress, Sheet

TITLE = "De minimis"

COLUMNS = (
    Column("Undertaking", 32),
    Column("VAT/registry no.", 18),
    Column("Award date", 12, DATE),
    Column("Aid amount", 15, AMOUNT),
    Column("Aid declared before", 15, AMOUNT),
    Column("Total over rolling period", 17, AMOUNT),
)


def write_de_minimis(
    wb: Workbook, rows: Iterable[DeMinimisRow], *, progress: Progress, amount_fmt: str
) -> None:
    sheet = Sheet(wb, TITLE, COLUMNS, progress, amount_fmt)
    sheet.write_header()
    write = sheet.write
    for d in rows:
        write((
            d.undertaking, d.registry_number, d.award_date, d.aid_amount, d.declared_before,
            d.rolling_total,
        ))
    sheet.finish_with_filter()
