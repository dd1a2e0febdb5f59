"""The plain rows the workbook is built from: one frozen, keyword-only dataclass per sheet.

Callers (the database service, the benchmark, the tests) fill them by keyword; nothing here
computes a figure. The budget figures of a summary (outstanding, remaining envelope and
quota) arrive already computed, so the workbook shows exactly the numbers the dashboard and
the public page show, from the one definition in ``vouchers/figures.py``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

__all__ = [
    "ApplicationRow",
    "DeMinimisRow",
    "LedgerRow",
    "PaymentRow",
    "TypeSummary",
    "VoucherRow",
    "WorkbookMeta",
]

_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_ZERO = Decimal("0.00")


@dataclass(frozen=True, kw_only=True)
class WorkbookMeta:
    programme: str
    funder: str
    call: str
    currency: str = "EUR"
    filters: Sequence[tuple[str, str]] = field(default_factory=list)
    generated_at: datetime
    generated_by: str
    cost_category: str = "External expertise and services"

    def __post_init__(self) -> None:
        if self.generated_at.tzinfo is None or self.generated_at.utcoffset() is None:
            raise ValueError("generated_at must be timezone-aware (UTC)")
        # The code ends up inside a number format string, so only ISO 4217 shapes pass.
        if not _CURRENCY_RE.fullmatch(self.currency):
            raise ValueError(f"currency must be an ISO 4217 code, got {self.currency!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeSummary:
    """One voucher type on the Summary sheet, every figure given by the caller."""

    voucher_type: str
    label: str
    quota: int
    envelope: Decimal
    funding_rate: Decimal
    received: int  # applications received: submitted, drafts not counted
    drafts: int
    awarded_count: int
    committed: Decimal
    paid: Decimal
    outstanding: Decimal
    remaining_envelope: Decimal
    remaining_quota: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VoucherRow:
    """One voucher. What it holds of its envelope (awarded - released) is the sheet's own
    live formula; outstanding (held, not paid: 0 once paid) and the recovery due from the
    SME are the caller's figures (services/settlement.py)."""

    reference: str
    sme: str
    registry_number: str
    country: str
    region: str
    voucher_type: str
    provider: str | None
    title: str
    requested: Decimal
    awarded: Decimal
    # Given back to the envelope at close-out or cancellation.
    released: Decimal = _ZERO
    paid: Decimal
    outstanding: Decimal
    recovery_due: Decimal = _ZERO
    award_date: date | None
    state: str
    report_state: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationRow:
    reference: str
    sme: str
    country: str
    voucher_type: str
    title: str
    state: str
    submitted_at: datetime | None
    weighted_score: Decimal | None
    review_count: int
    decision: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRow:
    paid_on: date
    voucher_reference: str
    sme: str
    amount: Decimal
    payment_reference: str
    invoice_number: str | None
    invoice_date: date | None
    description: str
    vat: Decimal = Decimal("0")
    # "Advance" or "Payment", as the caller labels the kinds.
    kind: str = "Payment"
    # Booked back (the Ledger sheet has the reversal): listed, never declared to Jems.
    reversed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerRow:
    """One ledger entry: what it moved on the voucher's committed, paid and quota."""

    booked_on: date
    voucher_reference: str
    sme: str
    voucher_type: str
    kind: str  # the caller's label: "Commitment", "Release", "Advance", ...
    committed: Decimal
    paid: Decimal
    quota: int
    reason: str
    reference: str
    recorded_by: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DeMinimisRow:
    """One award in the de minimis register, with what a central register asks for.

    ``award_date`` is the date granted and ``aid_amount`` the amount granted, as recorded
    at the award; ``aid_after_close_out`` is what the undertaking keeps once close-out or
    cancellation released the rest. ``declared_before`` and ``rolling_total`` (the aid
    declared in the rolling three years up to the award, and that plus the aid awarded
    here in the period) are for the workbook; the register's CSV leaves them out.
    """

    undertaking: str
    registry_number: str
    award_date: date
    aid_amount: Decimal
    declared_before: Decimal | None = None
    rolling_total: Decimal | None = None
    country: str = ""
    vat_number: str = ""
    granting_authority: str = ""
    aid_after_close_out: Decimal | None = None
    regulation: str = ""
    voucher_reference: str = ""
