"""One partner report's list of expenditure as a workbook, in the columns Jems asks for.

Built from plain data like the budget workbook (no Flask, no database): the caller hands
over the report's description and its lines (vouchers/services/partner_reports.Line or
anything with the same attributes). The List of expenditure sheet ends with a totals row
of live sums; the About sheet says whose period it is and how it was converted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from openpyxl import Workbook

from .cells import clean_text, text_value
from .sheets.about import TITLE as ABOUT_TITLE
from .sheets.about import about_sheet, append_generated, label
from .sheets.common import (
    Progress,
    Sheet,
    amount_format,
    utc_naive,
)
from .sheets.expenditure import COLUMNS

TITLE = "List of expenditure"
ABOUT = ABOUT_TITLE
# The columns of the budget workbook's List of expenditure sheet: one shape of Jems' list.
EUR_HEADER = COLUMNS[-1].header
# A partner's lines are in its currency, and a recovery (held in EUR) may sit among them:
# the currency columns get a plain number format, the Currency column says which.
PLAIN_AMOUNT = "#,##0.00"
CURRENCY_COLUMNS = ("Total value incl. VAT", "VAT", "Declared amount")


@dataclass(frozen=True)
class ReportMeta:
    programme: str
    partner: str
    country: str
    currency: str
    number: int
    period_start: date
    period_end: date
    status: str
    rate_rule: str
    # Said on the About sheet of a draft: its rates are those of the month shown.
    rate_note: str
    generated_at: datetime
    generated_by: str


def build_partner_report(target: str | os.PathLike[str] | IO[bytes], *, meta: ReportMeta,
                         lines: Iterable[Any]) -> None:
    wb = Workbook(write_only=True)
    generated_at = utc_naive(meta.generated_at)
    wb.properties.title = clean_text(
        f"{meta.partner} – partner report {meta.number} ({meta.period_start:%Y-%m-%d} to "
        f"{meta.period_end:%Y-%m-%d})")
    wb.properties.subject = clean_text(meta.programme)
    wb.properties.creator = clean_text(meta.generated_by)
    wb.properties.created = generated_at
    wb.properties.modified = generated_at
    _write_lines(wb, lines)
    _write_about(wb, meta)
    wb.save(target)


def _write_lines(wb: Workbook, lines: Iterable[Any]) -> None:
    sheet = Sheet(wb, TITLE, COLUMNS, Progress(None), PLAIN_AMOUNT)
    sheet.write_header()
    eur_cell = sheet.styled_cell(amount_format("EUR"))
    currencies = set()
    for line in lines:
        currencies.add(line.currency)
        values = [line.position, line.cost_category, line.internal_reference,
                  line.invoice_number, line.invoice_date, line.paid_on, line.description,
                  line.total_value, line.vat, line.declared_amount, line.currency, line.rate,
                  None]
        row = [convert(v) for convert, v in zip(sheet._converters, values, strict=True)]
        # The EUR column carries the EUR tag, whatever the line's own currency.
        if line.declared_eur is not None:
            eur_cell.value = line.declared_eur
            row[-1] = eur_cell
        sheet.append_row(row)
    # Amounts in different currencies do not add up: then only the EUR column is summed.
    only = (EUR_HEADER, *CURRENCY_COLUMNS) if len(currencies) <= 1 else (EUR_HEADER,)
    sheet.write_totals("Total", only=only)


def _write_about(wb: Workbook, meta: ReportMeta) -> None:
    ws = about_sheet(wb, ABOUT)
    rule = ("the InforEuro rate of the month of submission" if meta.rate_rule == "submission"
            else "each payment's own rate, stored when it was recorded")
    rows = (("Programme", meta.programme), ("Partner", meta.partner),
            ("Country", meta.country), ("Currency", meta.currency),
            ("Report", f"Partner report {meta.number}"),
            ("Period", f"{meta.period_start:%Y-%m-%d} to {meta.period_end:%Y-%m-%d}"),
            ("Status", meta.status), ("Conversion", rule))
    for name, value in rows:
        ws.append([label(ws, name), text_value(ws, value)])
    if meta.rate_note:
        ws.append([label(ws, "Rates"), text_value(ws, meta.rate_note)])
    append_generated(ws, meta.generated_at, meta.generated_by)


def declared_eur_total(lines: Iterable[Any]) -> Decimal:
    """What the totals row adds up to: the sum of the rounded lines."""
    return sum((line.declared_eur or Decimal("0.00") for line in lines), Decimal("0.00"))
