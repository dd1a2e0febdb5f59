"""The List of expenditure sheet, in the shape of a Jems partner report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from itertools import chain

from openpyxl import Workbook

from ..rows import PaymentRow, WorkbookMeta
from .common import (
    AMOUNT,
    DATE,
    INT,
    JEMS_DESCRIPTION_LENGTH,
    JEMS_REFERENCE_LENGTH,
    RATE,
    Column,
    Progress,
    Sheet,
)

TITLE = "List of expenditure"

COLUMNS = (
    Column("ID", 6, INT),
    Column("Cost category", 30),
    Column("Internal reference no.", 18, max_length=JEMS_REFERENCE_LENGTH),
    Column("Invoice no.", 18, max_length=JEMS_REFERENCE_LENGTH),
    Column("Invoice date", 12, DATE),
    Column("Date of payment", 12, DATE),
    Column("Description", 50, max_length=JEMS_DESCRIPTION_LENGTH),
    Column("Total value incl. VAT", 15, AMOUNT),
    Column("VAT", 13, AMOUNT),
    Column("Declared amount", 15, AMOUNT),
    Column("Currency", 9),
    Column("Conversion rate", 11, RATE),
    Column("Declared amount in EUR", 15, AMOUNT),
)


def write_expenditure(
    wb: Workbook,
    payments: Iterable[PaymentRow],
    *,
    meta: WorkbookMeta,
    progress: Progress,
    amount_fmt: str,
    headings: Mapping[str, str] | None = None,
    recoveries: Iterable[PaymentRow] = (),
) -> None:
    sheet = Sheet(wb, TITLE, COLUMNS, progress, amount_fmt, headings=headings)
    sheet.write_header()
    in_euro = meta.currency == "EUR"
    # Jems converts with the Commission's monthly rate, which this system does not hold;
    # for another currency the rate and the euro amount are left for the partner to fill.
    rate = Decimal("1") if in_euro else None
    write = sheet.write
    # A reversed payment did not stay with the SME (the bank returned it, or it was wrong
    # and was booked back): it is not expenditure, and the right payment that replaced it
    # is declared instead.
    # A recovery (an advance beyond what was finally payable, paid back) is a correction
    # of expenditure declared before: a negative line, so the list adds up to what stayed
    # with the SMEs, as the Summary's paid does.
    kept = (p for p in payments if not p.reversed)
    for number, p in enumerate(chain(kept, recoveries), 1):
        # A voucher payment is the net amount the programme pays out, so it is what is
        # declared; VAT is recorded on top of it and is not declared, being recoverable
        # (non-recoverable VAT would have been included in the payment amount itself).
        declared = p.amount
        write((
            number, meta.cost_category, p.voucher_reference, p.invoice_number,
            p.invoice_date, p.paid_on, p.description, p.amount + p.vat, p.vat, declared,
            meta.currency, rate, declared if in_euro else None,
        ))
    sheet.finish_with_filter()
