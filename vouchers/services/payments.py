"""Money out and back: advances, payments, their reversals, and recoveries.

A recorded payment is never edited or deleted. A wrong one is reversed (a negative ledger
entry with its reason) and the right one recorded; a reversal that leaves a paid voucher
short moves it back to completed. Each function books through services/ledger.py, which
writes the entry, moves the counters and writes the audit record, then settles the
voucher (services/settlement.py) so nothing stays committed that is no longer needed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload

from workflows import lifecycle

from .. import policy
from ..clock import local_date, today
from ..extensions import db
from ..i18n import N_, translated
from ..models import Application, BatchItem, LedgerEntry, Payment, User
from ..models.base import utcnow
from ..models.ledger import ADVANCE, PAYMENT, RECOVERY, REVERSAL
from ..money import ZERO, format_eur, format_money, parse_amount
from ..text import clean_line, clean_reason
from . import eligibility, ledger, notifications, settlement
from .errors import InvalidInput, PaymentRefused
from .rates import (
    EUR,
    Rate,
    coin_in_eur,
    format_rate,
    from_eur,
    latest_rate,
    rate_on,
    to_eur,
)
from .transaction import atomic
from .transitions import fire
from .wording import day, eur, money, month

MAX_REASON = 2000
MAX_REFERENCE = 60  # the columns' length
# Marked N_ and given to atomic() through i18n.translated (the reader's language).
PAYMENT_CLASH = {"uq_payments_batch_item_id": N_("This transfer of the batch is already "
                                                 "recorded."),
                 "uq_ledger_entries_payment_kind": N_("This payment is already reversed.")}


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


def payments_to(organisation_id: int, *, page: int, per_page: int
                ) -> tuple[list[tuple[Payment, bool]], int]:
    """One page of the payments made to an organisation, newest first, each with whether it
    was reversed since, and how many there are (the applicant's API: vouchers/api/)."""
    scope = (select(Payment).join(Application, Payment.application_id == Application.id)
             .where(Application.organisation_id == organisation_id))
    total = db.session.scalar(select(func.count()).select_from(scope.subquery()))
    rows = list(db.session.scalars(
        scope.options(joinedload(Payment.application))
        .order_by(Payment.paid_on.desc(), Payment.id.desc())
        .offset((page - 1) * per_page).limit(per_page)))
    reversed_ids = set(db.session.scalars(
        select(LedgerEntry.payment_id).where(LedgerEntry.kind == REVERSAL,
                                             LedgerEntry.payment_id.in_([p.id for p in rows]))))
    return [(p, p.id in reversed_ids) for p in rows], total


def _ensure_new_reference(application: Application, reference: str) -> None:
    """The same transfer recorded twice (a second click, a colleague) is refused: each
    payment of a voucher has its own bank reference."""
    reversed_ids = reversed_payment_ids(application)
    for payment in payments_of(application):
        if payment.reference == reference and payment.id not in reversed_ids:
            raise PaymentRefused(
                _("A payment with the reference %(reference)s is already recorded on this "
                  "voucher (%(amount)s on %(day)s); give the reference of this transfer.",
                  reference=reference, amount=eur(payment.amount), day=day(payment.paid_on)))


def _amount(value) -> Decimal:
    try:
        amount = parse_amount(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if amount <= 0:
        raise InvalidInput(_("Give an amount greater than zero."))
    return amount


def _check_dates(application: Application, paid_on: date, invoice_date: date | None) -> None:
    if paid_on > today():
        raise InvalidInput(_("A payment cannot be dated in the future."))
    if invoice_date is not None and invoice_date > today():
        raise InvalidInput(_("An invoice cannot be dated in the future."))
    awarded_on = local_date(application.awarded_at)
    if paid_on < awarded_on:
        raise InvalidInput(_("A payment cannot be dated before the award (%(day)s).",
                             day=day(awarded_on)))


def _limit(application: Application, kind: str) -> tuple[Decimal, Decimal]:
    """(what may be paid now, the voucher's paid amount this kind may reach)."""
    if kind == ADVANCE:
        if not application.call.advance_share:
            raise PaymentRefused(_("This call pays no advances."))
        if application.state not in settlement.ADVANCE_STATES:
            raise PaymentRefused(_("An advance is paid after the award and before the final "
                                   "report is approved."))
        return settlement.advance_due(application), settlement.advance_cap(application)
    if application.state == lifecycle.PAID:
        raise PaymentRefused(_("This voucher is already paid in full."))
    if application.state != lifecycle.COMPLETED:
        raise PaymentRefused(_("Payments are recorded once the final report is approved."))
    return settlement.final_due(application), settlement.payable(application)


def record_payment(application: Application, actor: User, amount=None, *, paid_on: date,
                   reference: str, invoice_number: str = "", invoice_date: date | None = None,
                   kind: str = PAYMENT, batch_item: BatchItem | None = None,
                   amount_in_currency=None, now: datetime | None = None) -> Payment:
    """Record money sent to the SME: an advance, or a payment after the report.

    ``amount`` is in EUR; a voucher in another currency may instead be paid with
    ``amount_in_currency`` (what was transferred), booked in EUR at the InforEuro rate of
    the month of ``paid_on``, which the payment keeps. The payment that reaches the
    payable amount closes the voucher (paid). A voucher waiting in a payment batch is paid
    by recording that batch, never by hand as well.
    """
    now = now or utcnow()
    with atomic(translated(PAYMENT_CLASH)):
        policy.ensure(policy.can_manage(actor, application), "Only a manager may record payments.")
        transfer = _transfer(application, amount, amount_in_currency)
        reference = clean_line(reference, N_("the payment reference (bank transfer or ledger "
                                  "number)"), MAX_REFERENCE)
        invoice_number = clean_line(invoice_number, N_("the invoice number"), MAX_REFERENCE,
                                    required=False)
        still, limit = _limit(application, kind)
        _check_dates(application, paid_on, invoice_date)
        if kind == PAYMENT:
            approved_on = local_date(settlement.final_report_of(application).decided_at)
            if paid_on < approved_on:
                raise InvalidInput(_("A payment after the final report cannot be dated "
                                     "before the report was approved (%(day)s).",
                                     day=day(approved_on)))
        if batch_item is None:
            settlement.ensure_not_in_open_batch(application, _("recording a payment by hand"))
            _ensure_new_reference(application, reference)
        transfer = transfer.at(paid_on, still)
        amount = transfer.eur
        if amount > still:
            raise PaymentRefused(
                _("%(amount)s is more than the %(due)s advance still due (the call's advance "
                  "share of the award).", amount=transfer.label, due=eur(still))
                if kind == ADVANCE else
                _("%(amount)s is more than the %(due)s still payable (actual costs × funding "
                  "rate, at most the award, less what was paid).", amount=transfer.label,
                  due=eur(still)))
        payment = Payment(
            application_id=application.id, kind=kind, amount=amount, paid_on=paid_on,
            reference=reference, invoice_number=invoice_number,
            invoice_date=invoice_date, recorded_by_id=actor.id, recorded_at=now,
            batch_item_id=batch_item.id if batch_item else None, **transfer.columns,
        )
        db.session.add(payment)
        db.session.flush()
        ledger.post(application, kind, actor=actor, booked_on=paid_on, paid=amount,
                    paid_limit=limit, reference=reference, payment_id=payment.id, now=now)
        if kind == PAYMENT and application.paid_amount >= settlement.payable(application):
            fire(application, "pay", actor, amount=application.paid_amount, now=now,
                 comment=f"Paid in full ({reference.strip()}).{transfer.note}")
        notifications.payment_made(payment)
    return payment


@dataclass(frozen=True)
class Transfer:
    """What was transferred: EUR, or an amount of the voucher's currency and its rate."""

    currency: str
    entered: Decimal
    rate: Rate | None = None
    eur: Decimal = ZERO
    # Set when the transfer comes within one coin of the currency of what was due.
    short: Decimal = ZERO

    def at(self, paid_on: date, still: Decimal) -> Transfer:
        """Converted at the InforEuro rate of ``paid_on``'s month (MissingRate refuses).
        A transfer in the currency that leaves less than its smallest coin (0.01) of
        ``still`` unpaid settles it: nothing smaller can be transferred, so the ledger
        books all that was due and the voucher closes as any payment in full does."""
        if self.currency == EUR:
            return replace(self, eur=self.entered)
        rate = rate_on(self.currency, paid_on)
        eur = to_eur(self.entered, rate.units_per_eur)
        short = still - eur
        if ZERO < short < coin_in_eur(rate.units_per_eur):
            return replace(self, rate=rate, eur=still, short=short)
        return replace(self, rate=rate, eur=eur)

    @property
    def label(self) -> str:
        if self.rate is None:
            return format_eur(self.eur)
        rate = format_rate(self.rate.units_per_eur)
        return (f"{format_money(self.entered, self.currency)} ({format_eur(self.eur)} at the "
                f"InforEuro rate of {self.rate.month_label}, {rate} {self.currency} per EUR)")

    @property
    def note(self) -> str:
        if not self.short:
            return ""
        return (f" {format_money(self.entered, self.currency)} came {format_eur(self.short)} "
                f"short of the due, less than 0.01 {self.currency}: settled in full.")

    @property
    def columns(self) -> dict:
        if self.rate is None:
            return {"currency": EUR}
        return {"currency": self.currency, "amount_in_currency": self.entered,
                "rate": self.rate.units_per_eur, "rate_year": self.rate.year,
                "rate_month": self.rate.month}


def _transfer(application: Application, amount, amount_in_currency) -> Transfer:
    """The amount entered: in EUR, or (``amount_in_currency``) in the voucher's currency."""
    if amount_in_currency is None:
        return Transfer(EUR, _amount(amount))
    if amount is not None:
        raise InvalidInput(_("Give the amount either in EUR or in the voucher's currency."))
    return Transfer(application.currency or EUR, _amount(amount_in_currency))


def entered_amount(application: Application, value) -> dict:
    """The form's amount as record_payment's argument: it is typed in the voucher's
    currency (vouchers/manager's payment form)."""
    if (application.currency or EUR) == EUR:
        return {"amount": value}
    return {"amount_in_currency": value}


def due_hint(application: Application, due: Decimal | None) -> str:
    """What is due, in EUR and in the voucher's currency at the latest imported rate."""
    currency = application.currency or EUR
    if currency == EUR or not due:
        return ""
    rate = latest_rate(currency)
    if rate is None:
        return _("No InforEuro rate of %(currency)s is imported yet: the payment needs the "
                 "rate of the month it is paid in.", currency=currency)
    in_currency = money(from_eur(due, rate.units_per_eur), currency)
    return _("%(due)s is about %(amount)s at the %(month)s rate (%(rate)s %(currency)s per "
             "EUR); the rate of the month of payment converts it.", due=eur(due),
             amount=in_currency, month=month(date(rate.year, rate.month, 1)),
             rate=format_rate(rate.units_per_eur), currency=currency)


def reverse_payment(payment: Payment, actor: User, reason: str,
                    now: datetime | None = None) -> LedgerEntry:
    """Book a recorded payment back (the bank returned it, or it was wrong)."""
    now = now or utcnow()
    application = payment.application
    with atomic(translated(PAYMENT_CLASH)):
        policy.ensure(policy.can_manage(actor, payment), "Only a manager may reverse payments.")
        reason = clean_reason(reason, _("Give the reason for the reversal."), MAX_REASON)
        if payment.id in reversed_payment_ids(application):
            raise PaymentRefused(_("This payment is already reversed."))
        if payment.amount > application.paid_amount:
            # Money the SME paid back since then was booked against this payment.
            raise PaymentRefused(_(
                "Only %(held)s of this voucher's payments is still with the SME (%(back)s was "
                "recovered since), so this payment of %(amount)s cannot be reversed in full.",
                held=eur(application.paid_amount),
                back=eur(payment.amount - application.paid_amount), amount=eur(payment.amount)))
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
        reference = clean_line(reference, N_("the reference of the incoming transfer"),
                               MAX_REFERENCE)
        if received_on > today():
            raise InvalidInput(_("A recovery cannot be dated in the future."))
        due_since = db.session.scalar(select(func.max(LedgerEntry.booked_on)).where(
            LedgerEntry.application_id == application.id, LedgerEntry.kind != RECOVERY))
        if due_since is not None and received_on < due_since:
            # The money became due back with the voucher's last movement (its close-out,
            # cancellation or a payment); the ledger stays in the order things happened.
            raise InvalidInput(_("A recovery cannot be dated before the voucher's last "
                                 "movement of money (%(day)s).", day=day(due_since)))
        if db.session.scalar(select(exists().where(
                LedgerEntry.application_id == application.id, LedgerEntry.kind == RECOVERY,
                LedgerEntry.reference == reference))):
            raise PaymentRefused(_("A recovery with the reference %(reference)s is already "
                                   "recorded on this voucher (a second click?).",
                                   reference=reference))
        due = settlement.recovery_due(application)
        if due <= 0:
            raise PaymentRefused(_("Nothing is due back from this SME."))
        if amount > due:
            raise PaymentRefused(_("%(amount)s is more than the %(due)s due back from the SME.",
                                   amount=eur(amount), due=eur(due)))
        entry = ledger.post(application, RECOVERY, actor=actor, booked_on=received_on,
                            paid=-amount, reference=reference, now=now,
                            reason=f"Recovered {format_eur(amount)} from the SME.")
        if settlement.settle(application, actor, booked_on=received_on, now=now,
                             reason="Recovered money returns to the envelope."):
            eligibility.refresh_company(application.organisation_id, now)
    return entry
