"""Money out and back: advances, payments, their reversals, and recoveries.

A recorded payment is never edited or deleted. A wrong one is reversed (a negative ledger
entry with its reason) and the right one recorded; a reversal that leaves a paid voucher
short moves it back to completed. Each function books through services/ledger.py, which
writes the entry, moves the counters and writes the audit record, then settles the
voucher (services/settlement.py) so nothing stays committed that is no longer needed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import exists, func, select

from workflows import lifecycle

from .. import policy
from ..clock import local_date, today
from ..extensions import db
from ..models import Application, BatchItem, LedgerEntry, Payment, User
from ..models.base import utcnow
from ..models.ledger import ADVANCE, PAYMENT, RECOVERY, REVERSAL
from ..money import format_eur, parse_amount
from ..text import clean_line, clean_reason
from . import eligibility, ledger, notifications, settlement
from .errors import InvalidInput, PaymentRefused
from .transaction import atomic
from .transitions import fire

MAX_REASON = 2000
MAX_REFERENCE = 60  # the columns' length
PAYMENT_CLASH = {"uq_payments_batch_item_id": "This transfer of the batch is already recorded.",
                 "uq_ledger_entries_payment_kind": "This payment is already reversed."}


def payments_of(application: Application) -> list[Payment]:
    """The payments recorded on a voucher, in the order they were paid."""
    return list(db.session.scalars(
        select(Payment).where(Payment.application_id == application.id)
        .order_by(Payment.paid_on, Payment.id)
    ))


def reversed_payment_ids(application: Application) -> set[int]:
    return set(db.session.scalars(
        select(LedgerEntry.payment_id).where(LedgerEntry.application_id == application.id,
                                             LedgerEntry.kind == REVERSAL)
    ))


def _ensure_new_reference(application: Application, reference: str) -> None:
    """The same transfer recorded twice (a second click, a colleague) is refused: each
    payment of a voucher has its own bank reference."""
    reversed_ids = reversed_payment_ids(application)
    for payment in payments_of(application):
        if payment.reference == reference and payment.id not in reversed_ids:
            raise PaymentRefused(
                f"A payment with the reference {reference} is already recorded on this "
                f"voucher ({format_eur(payment.amount)} on {payment.paid_on:%d %b %Y}); "
                "give the reference of this transfer.")


def _amount(value) -> Decimal:
    try:
        amount = parse_amount(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if amount <= 0:
        raise InvalidInput("Give an amount greater than zero.")
    return amount


def _check_dates(application: Application, paid_on: date, invoice_date: date | None) -> None:
    if paid_on > today():
        raise InvalidInput("A payment cannot be dated in the future.")
    if invoice_date is not None and invoice_date > today():
        raise InvalidInput("An invoice cannot be dated in the future.")
    awarded_on = local_date(application.awarded_at)
    if paid_on < awarded_on:
        raise InvalidInput(
            f"A payment cannot be dated before the award ({awarded_on:%d %b %Y}).")


def _limit(application: Application, kind: str) -> tuple[Decimal, Decimal]:
    """(what may be paid now, the voucher's paid amount this kind may reach)."""
    if kind == ADVANCE:
        if not application.call.advance_share:
            raise PaymentRefused("This call pays no advances.")
        if application.state not in settlement.ADVANCE_STATES:
            raise PaymentRefused("An advance is paid after the award and before the final "
                                 "report is approved.")
        return settlement.advance_due(application), settlement.advance_cap(application)
    if application.state == lifecycle.PAID:
        raise PaymentRefused("This voucher is already paid in full.")
    if application.state != lifecycle.COMPLETED:
        raise PaymentRefused("Payments are recorded once the final report is approved.")
    return settlement.final_due(application), settlement.payable(application)


def record_payment(application: Application, actor: User, amount, *, paid_on: date,
                   reference: str, invoice_number: str = "", invoice_date: date | None = None,
                   kind: str = PAYMENT, batch_item: BatchItem | None = None,
                   now: datetime | None = None) -> Payment:
    """Record money sent to the SME: an advance, or a payment after the report.

    The payment that reaches the payable amount closes the voucher (paid). A voucher
    waiting in a payment batch is paid by recording that batch, never by hand as well.
    """
    now = now or utcnow()
    with atomic(PAYMENT_CLASH):
        policy.ensure(policy.can_manage(actor, application), "Only a manager may record payments.")
        amount = _amount(amount)
        reference = clean_line(reference, "the payment reference (bank transfer or ledger "
                               "number)", MAX_REFERENCE)
        invoice_number = clean_line(invoice_number, "the invoice number", MAX_REFERENCE,
                                    required=False)
        still, limit = _limit(application, kind)
        _check_dates(application, paid_on, invoice_date)
        if kind == PAYMENT:
            approved_on = local_date(settlement.final_report_of(application).decided_at)
            if paid_on < approved_on:
                raise InvalidInput("A payment after the final report cannot be dated before "
                                   f"the report was approved ({approved_on:%d %b %Y}).")
        if batch_item is None:
            settlement.ensure_not_in_open_batch(application, "recording a payment by hand")
            _ensure_new_reference(application, reference)
        if amount > still:
            what = "advance still due" if kind == ADVANCE else "still payable"
            raise PaymentRefused(
                f"{format_eur(amount)} is more than the {format_eur(still)} {what} "
                + ("(the call's advance share of the award)." if kind == ADVANCE else
                   "(actual costs × funding rate, at most the award, less what was paid)."))
        payment = Payment(
            application_id=application.id, kind=kind, amount=amount, paid_on=paid_on,
            reference=reference, invoice_number=invoice_number,
            invoice_date=invoice_date, recorded_by_id=actor.id, recorded_at=now,
            batch_item_id=batch_item.id if batch_item else None,
        )
        db.session.add(payment)
        db.session.flush()
        ledger.post(application, kind, actor=actor, booked_on=paid_on, paid=amount,
                    paid_limit=limit, reference=reference, payment_id=payment.id, now=now)
        if kind == PAYMENT and application.paid_amount >= settlement.payable(application):
            fire(application, "pay", actor, amount=application.paid_amount, now=now,
                 comment=f"Paid in full ({reference.strip()}).")
        notifications.payment_made(payment)
    return payment


def reverse_payment(payment: Payment, actor: User, reason: str,
                    now: datetime | None = None) -> LedgerEntry:
    """Book a recorded payment back (the bank returned it, or it was wrong)."""
    now = now or utcnow()
    application = payment.application
    with atomic(PAYMENT_CLASH):
        policy.ensure(policy.can_manage(actor, payment), "Only a manager may reverse payments.")
        reason = clean_reason(reason, "Give the reason for the reversal.", MAX_REASON)
        if payment.id in reversed_payment_ids(application):
            raise PaymentRefused("This payment is already reversed.")
        if payment.amount > application.paid_amount:
            # Money the SME paid back since then was booked against this payment.
            raise PaymentRefused(
                f"Only {format_eur(application.paid_amount)} of this voucher's payments is "
                f"still with the SME ({format_eur(payment.amount - application.paid_amount)} "
                "was recovered since), so this payment of "
                f"{format_eur(payment.amount)} cannot be reversed in full.")
        day = local_date(now)
        entry = ledger.post(application, REVERSAL, actor=actor, booked_on=day,
                            paid=-payment.amount, reason=reason, reference=payment.reference,
                            payment_id=payment.id, now=now)
        if (application.state == lifecycle.PAID
                and application.paid_amount < settlement.payable(application)):
            fire(application, "reverse_payment", actor, amount=payment.amount, now=now,
                 comment=reason)
        if settlement.settle(application, actor, booked_on=day, now=now,
                             reason="No longer needed after the reversal."):
            eligibility.refresh_company(application.organisation_id, now)
    return entry


def record_recovery(application: Application, actor: User, amount, *, received_on: date,
                    reference: str, now: datetime | None = None) -> LedgerEntry:
    """Record money the SME paid back; the envelope gets it back at once."""
    now = now or utcnow()
    with atomic():
        policy.ensure(policy.can_manage(actor, application),
                      "Only a manager may record recoveries.")
        amount = _amount(amount)
        reference = clean_line(reference, "the reference of the incoming transfer",
                               MAX_REFERENCE)
        if received_on > today():
            raise InvalidInput("A recovery cannot be dated in the future.")
        due_since = db.session.scalar(select(func.max(LedgerEntry.booked_on)).where(
            LedgerEntry.application_id == application.id, LedgerEntry.kind != RECOVERY))
        if due_since is not None and received_on < due_since:
            # The money became due back with the voucher's last movement (its close-out,
            # cancellation or a payment); the ledger stays in the order things happened.
            raise InvalidInput(f"A recovery cannot be dated before the voucher's last "
                               f"movement of money ({due_since:%d %b %Y}).")
        if db.session.scalar(select(exists().where(
                LedgerEntry.application_id == application.id, LedgerEntry.kind == RECOVERY,
                LedgerEntry.reference == reference))):
            raise PaymentRefused(f"A recovery with the reference {reference} is already "
                                 "recorded on this voucher (a second click?).")
        due = settlement.recovery_due(application)
        if due <= 0:
            raise PaymentRefused("Nothing is due back from this SME.")
        if amount > due:
            raise PaymentRefused(f"{format_eur(amount)} is more than the {format_eur(due)} "
                                 "due back from the SME.")
        entry = ledger.post(application, RECOVERY, actor=actor, booked_on=received_on,
                            paid=-amount, reference=reference, now=now,
                            reason=f"Recovered {format_eur(amount)} from the SME.")
        if settlement.settle(application, actor, booked_on=received_on, now=now,
                             reason="Recovered money returns to the envelope."):
            eligibility.refresh_company(application.organisation_id, now)
    return entry
