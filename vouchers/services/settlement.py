"""What a voucher owes and is owed: payable, advance due, final payment due, recovery due.

One place decides each figure; the voucher page, the payments due list, the SEPA batches,
the dashboard and the workbook read them from here. ``settle`` gives back to the envelope
whatever a voucher no longer needs: after the final report is approved it keeps
max(payable, paid), after a cancellation only what was paid (money still with the SME
stays committed until recovered), so the remaining envelope is never overstated.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import exists, select

from workflows import lifecycle

from ..extensions import db
from ..models import Application, BatchItem, FinalReport, User
from ..models.ledger import RELEASE
from ..money import ZERO, to_money
from . import ledger
from .errors import PaymentRefused

ADVANCE_STATES, CLOSED_STATES = lifecycle.ADVANCE_STATES, lifecycle.CLOSED_STATES


def final_report_of(application: Application) -> FinalReport | None:
    return db.session.scalar(
        select(FinalReport).where(FinalReport.application_id == application.id)
    )


def payable_of(awarded: Decimal | None, actual_costs: Decimal | None, rate: Decimal) -> Decimal:
    """min(actual eligible costs x funding rate, awarded), 0 until a report gives the costs
    (from plain values, so the workbook's streamed rows use the same rule)."""
    if awarded is None or actual_costs is None:
        return ZERO
    return min(to_money(actual_costs * rate), awarded)


def payable(application: Application) -> Decimal:
    report = final_report_of(application)
    return payable_of(application.awarded_amount, report.actual_costs if report else None,
                      application.call_voucher_type.funding_rate)


def advance_cap(application: Application) -> Decimal:
    """The call's advance share of the award (0 where the call pays no advance)."""
    share = application.call.advance_share
    if not share or application.awarded_amount is None:
        return ZERO
    return to_money(application.awarded_amount * share)


def advance_due(application: Application) -> Decimal:
    """The advance still to pay: the share of the award less what was paid so far."""
    if application.state not in ADVANCE_STATES:
        return ZERO
    return max(advance_cap(application) - application.paid_amount, ZERO)


def final_due(application: Application) -> Decimal:
    """After the report: the payable amount less the advances and payments made."""
    if application.state != lifecycle.COMPLETED:
        return ZERO
    return max(payable(application) - application.paid_amount, ZERO)


def recovery_due_of(state: str, paid: Decimal, payable_amount: Decimal) -> Decimal:
    """What the SME must pay back: advances beyond the payable amount, or all of them
    when the voucher was cancelled."""
    if state in CLOSED_STATES:
        return max(paid - payable_amount, ZERO)
    return paid if state == lifecycle.CANCELLED else ZERO


def recovery_due(application: Application) -> Decimal:
    payable_amount = payable(application) if application.state in CLOSED_STATES else ZERO
    return recovery_due_of(application.state, application.paid_amount, payable_amount)


def in_open_batch(application: Application) -> bool:
    """Whether the voucher waits in a payment batch the bank has not executed yet."""
    return bool(db.session.scalar(select(exists().where(
        BatchItem.pending_application_id == application.id))))


def ensure_not_in_open_batch(application: Application, doing: str) -> None:
    """Refuse ``doing`` while a transfer to the voucher may be under way: the batch would
    then pay what the voucher no longer owes."""
    if in_open_batch(application):
        raise PaymentRefused(_("This voucher is in a payment batch awaiting execution: "
                               "record the batch as executed, or cancel it, before "
                               "%(doing)s.", doing=doing))


def due(application: Application) -> tuple[str, Decimal] | None:
    """("advance" | "payment", amount) when money is due to the SME now, else None."""
    advance = advance_due(application)
    if advance > 0:
        return "advance", advance
    final = final_due(application)
    return ("payment", final) if final > 0 else None


def _target(application: Application) -> Decimal | None:
    """What the voucher should still hold of its envelope, or None while it is open."""
    if application.state in CLOSED_STATES:
        return max(payable(application), application.paid_amount)
    if application.state == lifecycle.CANCELLED:
        return application.paid_amount
    return None


def settle(application: Application, actor: User | None, *, booked_on: date, reason: str,
           quota_back: bool = False, now: datetime | None = None):
    """Release what the voucher no longer needs (and its quota place with ``quota_back``);
    the ledger entry, or None when there was nothing to release."""
    target = _target(application)
    if target is None:
        return None
    release = application.committed_amount - target
    if release <= 0 and not quota_back:
        return None
    return ledger.post(application, RELEASE, actor=actor, booked_on=booked_on,
                       committed=-max(release, ZERO), quota=-1 if quota_back else 0,
                       reason=reason, now=now)
