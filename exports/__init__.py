"""Exports for the funder: the budget workbook and the cell helper it relies on."""

from .budget_workbook import (
    ApplicationRow,
    DeMinimisRow,
    PaymentRow,
    TypeSummary,
    VoucherRow,
    WorkbookMeta,
    build_budget_workbook,
)

__all__ = [
    "ApplicationRow",
    "DeMinimisRow",
    "PaymentRow",
    "TypeSummary",
    "VoucherRow",
    "WorkbookMeta",
    "build_budget_workbook",
]
