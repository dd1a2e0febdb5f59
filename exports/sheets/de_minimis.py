"""The De minimis sheet: the register of the aid granted, one row per award.

The columns a national or EU central register asks for (Regulation (EU) 2023/2831,
Art. 6): the undertaking, its country, VAT and registry numbers, the granting authority,
the date granted and the amount, the regulation; then the aid after close-out (the award
less what close-out or cancellation released: what the undertaking keeps) and the
voucher, with a totals row of the aid. The last two columns are the rolling check the
award was allowed on: the aid the undertaking declared in the three years up to the
award, and that plus the aid awarded here in the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from openpyxl import Workbook

from ..rows import DeMinimisRow
from .common import AMOUNT, DATE, Column, Progress, Sheet

TITLE = "De minimis"

COLUMNS = (
    Column("Undertaking", 32),
    Column("Country", 8),
    Column("VAT number", 16),
    Column("Registry number", 18),
    Column("Granting authority", 28),
    Column("Date granted", 12, DATE),
    Column("Amount granted", 15, AMOUNT),
    Column("Aid after close-out", 15, AMOUNT),
    Column("Regulation", 34),
    Column("Voucher reference", 18),
    Column("Aid declared before", 15, AMOUNT),
    Column("Total over rolling period", 17, AMOUNT),
)


def write_de_minimis(
    wb: Workbook, rows: Iterable[DeMinimisRow], *, progress: Progress, amount_fmt: str,
    headings: Mapping[str, str] | None = None,
) -> None:
    sheet = Sheet(wb, TITLE, COLUMNS, progress, amount_fmt, headings=headings)
    sheet.write_header()
    write = sheet.write
    for d in rows:
        write((
            d.undertaking, d.country, d.vat_number, d.registry_number, d.granting_authority,
            d.award_date, d.aid_amount, d.aid_after_close_out, d.regulation,
            d.voucher_reference, d.declared_before, d.rolling_total,
        ))
    # The rolling figures are each undertaking's running totals: adding them means nothing.
    sheet.write_totals(only=("Amount granted", "Aid after close-out"))
