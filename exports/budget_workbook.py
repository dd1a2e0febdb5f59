"""The funder's budget workbook, built from plain data.

This package knows nothing about Flask or the database: callers turn their query results
into the frozen rows of ``exports.rows`` and hand them over, which keeps the layout testable
without an application and lets a background job stream 100,000 applications straight from
a cursor. Each sheet is written by its own module under ``exports/sheets/``; this module
puts them together in order and sets the document properties.

Printed, every sheet is landscape A4, one page wide, with its header row repeated on each
page; the Summary fits on one page.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from openpyxl import Workbook

from . import follow_up_sheet
from .cells import clean_text
from .rows import (
    ApplicationRow,
    DeMinimisRow,
    LedgerRow,
    PaymentRow,
    TypeSummary,
    VoucherRow,
    WorkbookMeta,
)
from .sheets import about as about_sheet
from .sheets import applications as applications_sheet
from .sheets import de_minimis as de_minimis_sheet
from .sheets import expenditure as expenditure_sheet
from .sheets import ledger as ledger_sheet
from .sheets import payments as payments_sheet
from .sheets import summary as summary_sheet
from .sheets import vouchers as vouchers_sheet
from .sheets.common import (
    AMOUNT_FORMAT,
    DATE_FORMAT,
    DATETIME_FORMAT,
    JEMS_DESCRIPTION_LENGTH,
    JEMS_REFERENCE_LENGTH,
    NO,
    PERCENT_FORMAT,
    TOTAL,
    YES,
    Progress,
    amount_format,
    utc_naive,
)

__all__ = [
    "AMOUNT_FORMAT",
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "JEMS_DESCRIPTION_LENGTH",
    "JEMS_REFERENCE_LENGTH",
    "PERCENT_FORMAT",
    "SHEET_NAMES",
    "ApplicationRow",
    "DeMinimisRow",
    "LedgerRow",
    "PaymentRow",
    "TypeSummary",
    "VoucherRow",
    "WorkbookMeta",
    "amount_format",
    "HEADINGS",
    "build_budget_workbook",
]

SHEET_NAMES = (
    summary_sheet.TITLE,
    vouchers_sheet.TITLE,
    ledger_sheet.TITLE,
    applications_sheet.TITLE,
    payments_sheet.TITLE,
    de_minimis_sheet.TITLE,
    expenditure_sheet.TITLE,
    follow_up_sheet.TITLE,
    about_sheet.TITLE,
)

# Every text of the workbook that ``headings`` translates (English -> the reader's
# language), sheet by sheet: the columns, the totals rows, the Ledger's rows per voucher
# type, the Summary's chart, the yes/no cells, the Follow-up's rounds and the About sheet.
# The caller hands in their translations; the filters' names (the About sheet's) are the
# caller's own texts. The sheets' names stay English: formulas refer to them.
HEADINGS: tuple[str, ...] = tuple(dict.fromkeys((
    *(column.header for sheet in (summary_sheet, vouchers_sheet, ledger_sheet,
                                  applications_sheet, payments_sheet, de_minimis_sheet,
                                  expenditure_sheet, follow_up_sheet)
      for column in sheet.COLUMNS),
    TOTAL, *ledger_sheet.BY_TYPE_HEADINGS.values(), summary_sheet.CHART_TITLE, YES, NO,
    *follow_up_sheet.ROUND_LABELS, *about_sheet.TEXTS,
)))


def build_budget_workbook(
    target: str | os.PathLike[str] | IO[bytes],
    *,
    meta: WorkbookMeta,
    summaries: Iterable[TypeSummary],
    vouchers: Iterable[VoucherRow],
    applications: Iterable[ApplicationRow],
    payments: Iterable[PaymentRow],
    de_minimis: Iterable[DeMinimisRow],
    ledger: Iterable[LedgerRow] = (),
    recoveries: Iterable[PaymentRow] = (),
    reconcile: bool = True,
    labels: dict[str, str] | None = None,
    progress: Callable[[int], Any] | None = None,
    follow_up: Iterable[follow_up_sheet.FollowUpRow] = (),
    headings: dict[str, str] | None = None,
) -> None:
    """Write the funder's workbook to ``target`` (a path or a binary file object).

    ``vouchers``, ``ledger``, ``applications`` and ``de_minimis`` are consumed exactly once
    and may be generators over a server-side cursor. ``payments`` feeds two sheets, so a
    non-sequence is materialised first. ``progress`` is called with the number of data rows
    written so far every 1,000 rows and once at the end.

    Voucher type codes in vouchers and applications are shown with their label from
    ``labels`` (the caller's registry), else with the label of the matching summary; a
    code known to neither is shown as it is.

    ``recoveries`` (money the SMEs paid back, as negative amounts) go into the List of
    expenditure after the payments, so what is declared is what stayed with the SMEs.

    ``reconcile`` says that ``ledger`` holds every entry of the summaries' voucher types
    (the vouchers are not narrowed by award date), so the Ledger sheet sets its sums per
    type next to the Summary's and says whether they agree.
    """
    summaries = list(summaries)
    if not isinstance(payments, Sequence):
        payments = list(payments)
    names = {s.voucher_type: s.label for s in summaries} | dict(labels or {})
    amount_fmt = amount_format(meta.currency)
    counter = Progress(progress)

    wb = Workbook(write_only=True)
    generated_at = utc_naive(meta.generated_at)
    wb.properties.title = clean_text(f"{meta.programme} – budget workbook ({meta.call})")
    wb.properties.subject = clean_text(meta.funder)
    wb.properties.creator = clean_text(meta.generated_by)
    wb.properties.created = generated_at
    wb.properties.modified = generated_at

    # ``headings``: each column heading in the reader's language (English when missing).
    shared = {"progress": counter, "amount_fmt": amount_fmt, "headings": headings}
    summary_sheet.write_summary(wb, summaries, currency=meta.currency, **shared)
    vouchers_sheet.write_vouchers(wb, vouchers, labels=names, **shared)
    ledger_sheet.write_ledger(wb, ledger, summaries=summaries, labels=names,
                              reconcile=reconcile, **shared)
    applications_sheet.write_applications(wb, applications, labels=names, **shared)
    payments_sheet.write_payments(wb, payments, **shared)
    de_minimis_sheet.write_de_minimis(wb, de_minimis, **shared)
    expenditure_sheet.write_expenditure(wb, payments, meta=meta, recoveries=recoveries,
                                        **shared)
    # The follow-up surveys' answers per voucher type and round (exports/follow_up_sheet.py).
    follow_up_sheet.write_follow_up(wb, follow_up, **shared)
    about_sheet.write_about(wb, meta, headings)
    wb.save(target)
    counter.finish()
