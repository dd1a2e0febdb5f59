"""After the award: the final report, its approval, and the payments that close a voucher.

Built on transitions.fire like every state change; a report's status follows from the
application's state (models.reporting.report_status), so nothing here keeps it in step.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select, update

from workflows import lifecycle

from .. import policy
from ..clock import local_date, today
from ..extensions import db
from ..models import Application, FinalReport, Payment, User
from ..models.base import utcnow
from ..money import ZERO, format_eur, parse_amount, to_money
from .errors import InvalidInput, PaymentRefused, TransitionNotAllowed
from .transaction import atomic
from .transitions import fire


def final_report_of(application: Application) -> FinalReport | None:
    return db.session.scalar(
        select(FinalReport).where(FinalReport.application_id == application.id)
    )


def payments_of(application: Application) -> list[Payment]:
    """The payments recorded on a voucher, in the order they were paid."""
    return list(db.session.scalars(
        select(Payment).where(Payment.application_id == application.id)
        .order_by(Payment.paid_on, Payment.id)
    ))


def payable_amount(application: Application) -> Decimal:
    """min(actual eligible costs x funding rate, awarded), once a report gives the costs."""
    report = final_report_of(application)
    if application.awarded_amount is None or report is None or report.actual_costs is None:
        return ZERO
    by_costs = to_money(report.actual_costs * application.call_voucher_type.funding_rate)
    return min(by_costs, application.awarded_amount)


def start_reporting(application: Application, actor: User) -> FinalReport:
    with atomic():
        fire(application, "start_reporting", actor)
        report = final_report_of(application)
        if report is None:
            report = FinalReport(application_id=application.id)
            db.session.add(report)
    return report


def save_final_report(application: Application, actor: User, *, summary: str,
                      actual_costs) -> FinalReport:
    """Save the report's text and costs while the voucher is in reporting."""
    try:
        blank = actual_costs is None or str(actual_costs).strip() == ""
        costs = None if blank else parse_amount(actual_costs)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if costs is not None and costs < 0:
        raise InvalidInput("Actual costs cannot be negative.")
    with atomic():
        if not policy.can_write_report(actor, application):
            raise TransitionNotAllowed("The final report can be edited by the applicant while "
                                       "the voucher is in reporting.")
        report = final_report_of(application) or FinalReport(application_id=application.id)
        report.summary = summary.strip()
        report.actual_costs = costs
        db.session.add(report)
    return report


def submit_final_report(application: Application, actor: User) -> None:
    with atomic():
        fire(application, "submit_report", actor)
        final_report_of(application).submitted_at = utcnow()


def _decide_report(application: Application, trigger: str, actor: User, comment: str) -> None:
    with atomic():
        fire(application, trigger, actor, comment=comment)
        report = final_report_of(application)
        report.decided_at = utcnow()
        report.decision_comment = comment.strip()


def approve_report(application: Application, actor: User, comment: str = "") -> None:
    _decide_report(application, "approve_report", actor, comment)


def return_report(application: Application, actor: User, comment: str) -> None:
    _decide_report(application, "return_report", actor, comment)


def _payment_problem(application: Application) -> str | None:
    if application.state == lifecycle.PAID:
        return "This voucher is already paid in full."
    if application.state != lifecycle.COMPLETED:
        return "Payments are recorded once the final report is approved."
    return None


def _payment_input(amount, reference: str, paid_on: date, invoice_date: date | None) -> Decimal:
    """The amount typed, once the payment's own fields make sense."""
    try:
        amount = parse_amount(amount)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if amount <= 0:
        raise InvalidInput("Give a payment amount greater than zero.")
    if not reference.strip():
        raise InvalidInput("Give the payment reference (bank transfer or ledger number).")
    if paid_on > today():
        raise InvalidInput("A payment cannot be dated in the future.")
    if invoice_date is not None and invoice_date > today():
        raise InvalidInput("An invoice cannot be dated in the future.")
    return amount


def record_payment(application: Application, actor: User, amount, *, paid_on: date,
                   reference: str, invoice_number: str = "",
                   invoice_date: date | None = None) -> Payment:
    """Record money paid out; the payment that reaches the payable amount closes the voucher.

    Paid never exceeds min(actual costs x funding rate, awarded): the conditional update
    below and the paid_within_awarded CHECK both hold it.
    """
    with atomic():
        policy.ensure(policy.can_manage(actor), "Only a manager may record payments.")
        amount = _payment_input(amount, reference, paid_on, invoice_date)
        problem = _payment_problem(application)
        if problem:
            raise PaymentRefused(problem)
        awarded_on = local_date(application.awarded_at)
        if paid_on < awarded_on:
            raise InvalidInput(
                f"A payment cannot be dated before the award ({awarded_on:%d %b %Y}).")
        payable = payable_amount(application)
        a = Application.__table__
        result = db.session.execute(
            update(a)
            .where(a.c.id == application.id, a.c.paid_amount + amount <= payable)
            .values(paid_amount=a.c.paid_amount + amount, version=a.c.version + 1)
        )
        if result.rowcount != 1:
            db.session.expire(application, ["paid_amount"])
            raise PaymentRefused(
                f"{format_eur(amount)} is more than the "
                f"{format_eur(payable - application.paid_amount)} still payable (actual costs "
                "× funding rate, at most the award)."
            )
        db.session.expire(application, ["paid_amount", "version"])
        payment = Payment(
            application_id=application.id, amount=amount, paid_on=paid_on,
            reference=reference.strip(), invoice_number=invoice_number.strip(),
            invoice_date=invoice_date, recorded_by_id=actor.id,
        )
        db.session.add(payment)
        db.session.flush()
        if application.paid_amount >= payable:
            fire(application, "pay", actor, amount=application.paid_amount,
                 comment=f"Paid in full ({reference.strip()}).")
    return payment
