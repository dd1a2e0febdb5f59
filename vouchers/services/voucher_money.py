"""One voucher's money as its pages show it: the figures, the ledger and the payments.

The manager's page and the applicant's page read the same VoucherMoney, so the two can
never disagree about what was paid or what is due back. Every figure comes from
services/settlement.py (what is owed) or the voucher's counters (what happened); this
module only gathers them, in a few queries, and says which rows apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workflows import lifecycle

from ..extensions import db
from ..models import Application, LedgerEntry, Payment
from ..models.ledger import ADVANCE, PAYMENT, RECOVERY, REVERSAL
from . import payments, settlement

# What the applicant's list of money shows: what reached them and what went back.
APPLICANT_KINDS = (ADVANCE, PAYMENT, REVERSAL, RECOVERY)


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    amount: Decimal
    hint: str = ""


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    # The reversal's ledger entry, once the payment was booked back.
    reversal: LedgerEntry | None

    @property
    def reversed(self) -> bool:
        return self.reversal is not None


@dataclass(frozen=True)
class VoucherMoney:
    application: Application
    entries: list[LedgerEntry]
    payments: list[PaymentRow]
    # min(actual eligible costs x funding rate, award) once the report gives the costs.
    payable: Decimal | None
    advance_cap: Decimal
    advance_due: Decimal
    final_due: Decimal
    recovery_due: Decimal
    # ("advance" | "payment", amount) due to the SME now, or None.
    due: tuple[str, Decimal] | None
    in_open_batch: bool

    @property
    def is_voucher(self) -> bool:
        return self.application.awarded_amount is not None

    @property
    def report_approved(self) -> bool:
        return self.application.state in lifecycle.CLOSED_STATES

    @property
    def figures(self) -> list[Figure]:
        """The manager's figures: only the rows that apply to this voucher now."""
        a = self.application
        if not self.is_voucher:
            return []
        # Said in the reader's language: the page reads them while it is drawn.
        rows = [Figure("awarded", _("Awarded"), a.awarded_amount)]
        if a.released_amount:
            rows.append(Figure("released", _("Released to the envelope"), a.released_amount,
                               _("not spent at close-out, or given back by a cancellation")))
        rows += [
            Figure("committed", _("Committed (held in the envelope)"), a.committed_amount),
            Figure("paid", _("Paid"), a.paid_amount, _("net of reversals and recoveries")),
            Figure("outstanding", _("Outstanding"), a.outstanding, _("held and not paid yet")),
        ]
        if self.payable is not None:
            rows.append(Figure("payable", _("Payable"), self.payable,
                               _("actual costs × funding rate, at most the award")))
        if self.advance_due:
            rows.append(Figure("advance_due", _("Advance due"), self.advance_due,
                               _("the call's advance share of the award: %(share)s",
                                 share=format(a.call.advance_share * 100, ".0f") + "%")))
        if self.final_due:
            rows.append(Figure("final_due", _("Final payment due"), self.final_due,
                               _("payable less the advances and payments made")))
        if self.recovery_due:
            rows.append(Figure("recovery_due", _("Recovery due from the SME"),
                               self.recovery_due,
                               _("paid beyond the payable amount") if self.report_approved
                               else _("paid before the voucher was cancelled")))
        return rows

    @property
    def applicant_entries(self) -> list[LedgerEntry]:
        """Money that reached the SME or went back, in the order it was booked."""
        return [e for e in self.entries if e.kind in APPLICANT_KINDS]

    @property
    def unreversed(self) -> list[Payment]:
        return [row.payment for row in self.payments if not row.reversed]


def _entries(application: Application) -> list[LedgerEntry]:
    return list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.application_id == application.id)
        .options(joinedload(LedgerEntry.actor)).order_by(LedgerEntry.id)
    ))


def voucher_money(application: Application) -> VoucherMoney:
    """The voucher's money, read once for its page."""
    entries = _entries(application)
    reversals = {e.payment_id: e for e in entries if e.kind == REVERSAL}
    rows = [PaymentRow(p, reversals.get(p.id)) for p in payments.payments_of(application)]
    report = settlement.final_report_of(application)
    # A draft's costs may still change: payable is shown once the report is submitted.
    reported = (report is not None and report.actual_costs is not None
                and report.status in ("submitted", "approved"))
    return VoucherMoney(
        application=application, entries=entries, payments=rows,
        payable=settlement.payable(application) if reported else None,
        advance_cap=settlement.advance_cap(application),
        advance_due=settlement.advance_due(application),
        final_due=settlement.final_due(application),
        recovery_due=settlement.recovery_due(application),
        due=settlement.due(application),
        in_open_batch=settlement.in_open_batch(application) if application.awarded_amount
        is not None else False,
    )


def payment_kind(application: Application) -> str:
    """The kind a payment recorded now is: an advance before the report is approved."""
    return ADVANCE if application.state in lifecycle.ADVANCE_STATES else PAYMENT
