"""Exports for the funder: the budget workbook, the de minimis register as CSV, their rows
and the cell helper they rely on.

Nothing here imports Flask, the database or the vouchers package: the service in
``vouchers/services/workbook.py`` gathers the rows and the labels and hands them over.
"""

from .budget_workbook import SHEET_NAMES, build_budget_workbook
from .rows import (
    ApplicationRow,
    DeMinimisRow,
    LedgerRow,
    PaymentRow,
    TypeSummary,
    VoucherRow,
    WorkbookMeta,
)

__all__ = [
    "SHEET_NAMES",
    "ApplicationRow",
    "DeMinimisRow",
    "LedgerRow",
    "PaymentRow",
    "TypeSummary",
    "VoucherRow",
    "WorkbookMeta",
    "build_budget_workbook",
]
