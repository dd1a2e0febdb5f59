"""After the award: the final report and its approval, which closes out the voucher.

Built on transitions.fire like every state change; a report's status follows from the
application's state (models.reporting.report_status), so nothing here keeps it in step.
Approving the report releases at once what the voucher will not spend
(services/settlement.py); the payments themselves are in services/payments.py.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _

from .. import policy
from ..clock import local_date
from ..extensions import db
from ..models import Application, FinalReport, User
from ..models.base import utcnow
from ..money import format_eur, parse_amount
from . import eligibility, notifications, settlement
from .errors import InvalidInput, TransitionNotAllowed
from .rates import EUR, rate_on, to_eur
from .settlement import final_report_of
from .transaction import atomic
from .transitions import fire


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
    """Save the report's text and costs while the voucher is in reporting.

    The costs are in the voucher's currency (the partner's); in another currency than
    EUR their EUR value is known only at submission, at that month's rate.
    """
    try:
        blank = actual_costs is None or str(actual_costs).strip() == ""
        costs = None if blank else parse_amount(actual_costs)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if costs is not None and costs < 0:
        raise InvalidInput(_("Actual costs cannot be negative."))
    with atomic():
        if not policy.can_write_report(actor, application):
            raise TransitionNotAllowed(_("The final report can be edited by the applicant "
                                         "while the voucher is in reporting."))
        report = final_report_of(application) or FinalReport(application_id=application.id)
        report.summary = summary.strip()
        report.currency = application.currency or EUR
        report.costs_in_currency = costs
        # EUR costs are their own value; others wait for the rate of the submission.
        report.actual_costs = costs if report.currency == EUR else None
        report.rate = None
        db.session.add(report)
    return report


def entered_costs(report: FinalReport | None):
    """The costs as the applicant typed them (in the report's currency), for the form."""
    if report is None:
        return None
    return report.costs_in_currency if report.costs_in_currency is not None else (
        report.actual_costs)


def submit_final_report(application: Application, actor: User,
                        now: datetime | None = None) -> None:
    """Submit the report; costs in another currency convert to EUR at the InforEuro rate
    of this month (a missing rate refuses, naming the month), and the report keeps it."""
    now = now or utcnow()
    with atomic():
        report = final_report_of(application)
        if report is not None:
            _convert(report, local_date(now))
        fire(application, "submit_report", actor, now=now)
        report.submitted_at = now


def _convert(report: FinalReport, day: date) -> None:
    if report.currency == EUR:
        if report.costs_in_currency is not None:
            report.actual_costs = report.costs_in_currency
        return
    if report.costs_in_currency is None:
        report.actual_costs = report.rate = None
        return
    rate = rate_on(report.currency, day)
    report.rate = rate.units_per_eur
    report.actual_costs = to_eur(report.costs_in_currency, rate.units_per_eur)


def _decide_report(application: Application, trigger: str, actor: User, comment: str,
                   now: datetime) -> None:
    fire(application, trigger, actor, comment=comment, now=now)
    report = final_report_of(application)
    report.decided_at = now
    report.decision_comment = comment.strip()


def approve_report(application: Application, actor: User, comment: str = "",
                   now: datetime | None = None) -> None:
    """Approve the report; release what will not be paid, and close a voucher that has
    nothing left to pay (zero eligible costs, or advances that cover it)."""
    now = now or utcnow()
    with atomic():
        settlement.ensure_not_in_open_batch(application, _("approving the final report"))
        _decide_report(application, "approve_report", actor, comment, now)
        payable = settlement.payable(application)
        nothing_to_pay = payable == 0
        day = local_date(now)
        released = settlement.settle(
            application, actor, booked_on=day, now=now,
            quota_back=nothing_to_pay and application.call.zero_report_returns_quota,
            reason=(f"Not spent: payable {format_eur(payable)} of the "
                    f"{format_eur(application.awarded_amount)} awarded."))
        if application.paid_amount >= payable:
            fire(application, "pay", actor, amount=application.paid_amount, now=now,
                 comment=_closing_note(application, payable))
        if released is not None:
            # The support the SME holds went down: its other applications' limits with it.
            eligibility.refresh_company(application.organisation_id, now)
        notifications.report_approved(application, payable)


def _closing_note(application: Application, payable) -> str:
    due_back = application.paid_amount - payable
    if not application.paid_amount:
        return "Closed: nothing to pay."
    if due_back > 0:
        return (f"Closed: the advance exceeds the payable amount; {format_eur(due_back)} is "
                "due back from the SME.")
    return "Closed: the advance covers the payable amount."


def return_report(application: Application, actor: User, comment: str) -> None:
    with atomic():
        _decide_report(application, "return_report", actor, comment, utcnow())
        notifications.report_returned(application, comment)
