"""The consortium summary for the lead partner: one row per partner and reporting period.

Plain data in (vouchers/services/partner_summary.SummaryRow or alike), a workbook out. The
EUR column adds up over the consortium; the amounts in the partners' own currencies do
not (DKK and GBP are not summed), so they have no total. A partner not in EUR may also
have lines in EUR (a recovery, a payment made in EUR): they are shown in a column of their
own, so that the two unconverted columns together are all of the partner's lines.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from typing import IO, Any

from openpyxl import Workbook

from .cells import clean_text
from .partner_report import PLAIN_AMOUNT
from .sheets.common import AMOUNT, DATE, INT, Column, Progress, Sheet, utc_naive

TITLE = "Consortium summary"
EUR_HEADER = "Declared in EUR (all lines)"

COLUMNS = (
    Column("Partner", 32),
    Column("Country", 8),
    Column("Currency", 9),
    Column("Report", 8, INT),
    Column("Period start", 12, DATE),
    Column("Period end", 12, DATE),
    Column("Status", 11),
    Column("Lines in the partner's currency", 16, AMOUNT),
    Column("Lines in EUR (partner not in EUR)", 16, AMOUNT),
    Column(EUR_HEADER, 16, AMOUNT),
)


def build_consortium_summary(target: str | os.PathLike[str] | IO[bytes], *, programme: str,
                             rows: Iterable[Any], generated_at: datetime,
                             generated_by: str) -> None:
    wb = Workbook(write_only=True)
    wb.properties.title = clean_text(f"{programme} – consortium summary")
    wb.properties.creator = clean_text(generated_by)
    wb.properties.created = wb.properties.modified = utc_naive(generated_at)
    sheet = Sheet(wb, TITLE, COLUMNS, Progress(None), PLAIN_AMOUNT)
    sheet.write_header()
    for row in rows:
        sheet.write((row.partner, row.country, row.currency, row.number, row.period_start,
                     row.period_end, row.status, row.declared_in_currency,
                     row.declared_in_eur_lines, row.declared_eur))
    sheet.write_totals("Total", only=(EUR_HEADER,))
    wb.save(target)
