"""Every way an application changes state, in one place.

Web views, CLI commands and tests all call these functions. Each one runs inside a
SAVEPOINT: a refused action raises a DomainError and leaves the database exactly as
it was, while the caller's transaction stays usable. They flush but never commit; the
request (or CLI command) commits once on success.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from workflows import lifecycle
from workflows.lifecycle import TransitionRefused

from ..clock import local_date, today
from ..database import begin_write
from ..extensions import db
from ..models import (
    PROVIDER_TYPES,
    Application,
    AuditRecord,
    CallVoucherType,
    FinalReport,
    Payment,
    User,
)
from ..models.base import utcnow
from ..money import ZERO, to_money
from . import budget
from .errors import (
    ConcurrentChange,
    DomainError,
    InvalidInput,
    PaymentRefused,
    TransitionNotAllowed,
)


@contextmanager
def atomic() -> Iterator[None]:
    """Run a block in a SAVEPOINT; on any error undo the block and re-raise."""
    begin_write(db.session)
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except StaleDataError as exc:
        raise ConcurrentChange(
            "Someone else changed this application at the same moment; reload and try again."
        ) from exc
    except IntegrityError as exc:
        # A unique or CHECK constraint refused the change: on PostgreSQL that is how a
        # double click or a colleague's simultaneous action shows up.
        raise ConcurrentChange(
            "This clashes with a change made at the same moment; reload and try again."
        ) from exc


def completeness_problems(application: Application) -> list[str]:
    """What an applicant must still fill in before submitting."""
    problems = []
    cvt = application.call_voucher_type
    details = application.details or {}
    if not application.title.strip():
        problems.append("give a title")
    if not (application.summary or "").strip():
        problems.append("describe the project")
    if not application.cost_lines:
        problems.append("add at least one cost line")
    requested = application.requested_amount or ZERO
    if requested <= 0:
        problems.append("give the amount requested")
    elif requested > cvt.max_amount:
        problems.append(f"the amount requested exceeds the maximum of €{cvt.max_amount:,.2f}")
    elif application.cost_lines:
        fundable = to_money(application.total_costs * cvt.funding_rate)
        if requested > fundable:
            problems.append(
                f"the amount requested exceeds {cvt.funding_rate * 100:.0f}% of the costs "
                f"(€{fundable:,.2f})"
            )
    vt = application.voucher_type
    required = {
        "travel": ("event", "destination", "start_date", "end_date"),
        "market_validation": ("service",),
        "product_validation": ("service",),
        "impact": ("outcome", "indicators"),
    }[vt]
    for key in required:
        if not str(details.get(key) or "").strip():
            problems.append(f"fill in {key.replace('_', ' ')}")
    if vt == "travel" and details.get("start_date") and details.get("end_date") and str(
        details["end_date"]
    ) < str(details["start_date"]):
        problems.append("the trip ends before it starts")
    if vt in PROVIDER_TYPES and application.provider_id is None:
        problems.append("choose a service provider")
    elif vt in PROVIDER_TYPES and not application.provider.active:
        problems.append("the chosen service provider has left the catalogue; choose another")
    return problems


class _Subject:
    """Adapts an Application row and the acting user to workflows.lifecycle.Subject.

    The facts are computed only when a guard asks for them.
    """

    def __init__(self, application: Application, actor: User | None, *, comment: str = "",
                 amount: Decimal | None = None, now: datetime | None = None):
        self._app = application
        self._actor = actor
        self._now = now or utcnow()
        self.state = application.state
        self.comment = comment
        self.amount = amount

    @property
    def actor_role(self) -> str:
        return self._actor.role if self._actor is not None else "system"

    @property
    def actor_is_owner(self) -> bool:
        return is_owner(self._actor, self._app)

    @property
    def call_is_open(self) -> bool:
        return self._app.call.is_open(self._now)

    @property
    def completeness_problems(self) -> list[str]:
        return completeness_problems(self._app)

    @property
    def submitted_review_count(self) -> int:
        return self._app.review_count

    @property
    def report_is_complete(self) -> bool:
        report = final_report_of(self._app)
        return bool(report and report.summary.strip() and report.actual_costs is not None)

    @property
    def fully_paid(self) -> bool:
        return self._app.paid_amount >= payable_amount(self._app)


def is_owner(user: User | None, application: Application) -> bool:
    """An applicant owns the applications of their organisation."""
    return (
        user is not None
        and user.role == lifecycle.APPLICANT
        and user.organisation_id is not None
        and user.organisation_id == application.organisation_id
    )


def final_report_of(application: Application) -> FinalReport | None:
    return db.session.scalar(
        select(FinalReport).where(FinalReport.application_id == application.id)
    )


def payable_amount(application: Application) -> Decimal:
    """min(actual eligible costs x funding rate, awarded), once a report gives the costs."""
    report = final_report_of(application)
    if application.awarded_amount is None or report is None or report.actual_costs is None:
        return ZERO
    by_costs = to_money(report.actual_costs * application.call_voucher_type.funding_rate)
    return min(by_costs, application.awarded_amount)


def _transition(application: Application, trigger: str, actor: User | None, *,
                comment: str = "", amount: Decimal | None = None,
                now: datetime | None = None) -> AuditRecord:
    """Fire the lifecycle trigger and write its audit record (inside atomic())."""
    subject = _Subject(application, actor, comment=comment, amount=amount, now=now)
    try:
        source, dest = lifecycle.fire(subject, trigger)
    except TransitionRefused as exc:
        raise TransitionNotAllowed(str(exc)) from exc
    application.state = dest
    record = AuditRecord(
        application_id=application.id, from_state=source, to_state=dest, trigger=trigger,
        actor_id=actor.id if actor else None, at=now or utcnow(), comment=comment.strip(),
        amount=amount,
    )
    db.session.add(record)
    return record


def create_draft(applicant: User, call_voucher_type, *, title: str, now: datetime | None = None,
                 **fields) -> Application:
    """A new draft application of the applicant's organisation."""
    if applicant.role != lifecycle.APPLICANT or applicant.organisation_id is None:
        raise InvalidInput("Only an applicant with a company profile can apply.")
    now = now or utcnow()
    if not call_voucher_type.call.is_open(now):
        raise TransitionNotAllowed("The call is not open for applications.")
    if not title.strip():
        raise InvalidInput("Give the application a title.")
    with atomic():
        application = Application(
            reference=_new_reference(call_voucher_type), call_id=call_voucher_type.call_id,
            call_voucher_type_id=call_voucher_type.id,
            voucher_type=call_voucher_type.voucher_type,
            organisation_id=applicant.organisation_id, applicant_id=applicant.id,
            title=title.strip(), state=lifecycle.DRAFT, created_at=now, **fields,
        )
        db.session.add(application)
        db.session.flush()
        db.session.add(AuditRecord(
            application_id=application.id, from_state=None, to_state=lifecycle.DRAFT,
            trigger="create", actor_id=applicant.id, at=now,
        ))
    return application


_TYPE_CODES = {"travel": "TR", "market_validation": "MV", "product_validation": "PV",
               "impact": "IM"}


def _new_reference(cvt) -> str:
    """CALLCODE-TYPE-NNNNN, numbered per call and type.

    The number comes from a counter on the voucher type, taken with one UPDATE ...
    RETURNING: two applicants starting drafts at the same moment queue on its row and
    get different numbers (a count of the rows would give both the same).
    """
    t = CallVoucherType.__table__
    number = db.session.execute(
        update(t).where(t.c.id == cvt.id)
        .values(references_issued=t.c.references_issued + 1)
        .returning(t.c.references_issued)
    ).scalar_one()
    db.session.expire(cvt, ["references_issued"])
    return f"{cvt.call.code}-{_TYPE_CODES[cvt.voucher_type]}-{number:05d}"


def submit(application: Application, actor: User, now: datetime | None = None) -> None:
    now = now or utcnow()
    with atomic():
        _transition(application, "submit", actor, now=now)
        application.submitted_at = now


def withdraw(application: Application, actor: User, comment: str = "") -> None:
    with atomic():
        _transition(application, "withdraw", actor, comment=comment)


def return_for_changes(application: Application, actor: User, comment: str) -> None:
    with atomic():
        _transition(application, "return_for_changes", actor, comment=comment)


def start_review(application: Application, actor: User | None) -> None:
    with atomic():
        _transition(application, "start_review", actor)


def award(application: Application, actor: User, amount, comment: str = "",
          now: datetime | None = None) -> None:
    """Award ``amount`` (at most the request and the type's maximum) within the budget."""
    try:
        amount = to_money(amount)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    now = now or utcnow()
    cvt = application.call_voucher_type
    with atomic():
        _transition(application, "award", actor, comment=comment, amount=amount, now=now)
        # Set with the state, so any flush below meets the awarded_amount CHECK.
        application.awarded_amount = amount
        application.awarded_at = now
        application.decided_at = now
        application.decision_reason = comment.strip()
        if amount > application.requested_amount:
            raise InvalidInput(
                f"The award (€{amount:,.2f}) cannot exceed the amount requested "
                f"(€{application.requested_amount:,.2f})."
            )
        if amount > cvt.max_amount:
            raise InvalidInput(
                f"The award (€{amount:,.2f}) exceeds the {cvt.label.lower()} maximum of "
                f"€{cvt.max_amount:,.2f}."
            )
        budget.check_de_minimis(application, amount, now)
        budget.reserve(cvt, amount)


def reject(application: Application, actor: User, reason: str) -> None:
    with atomic():
        _transition(application, "reject", actor, comment=reason)
        application.decided_at = utcnow()
        application.decision_reason = reason.strip()


def waitlist(application: Application, actor: User, comment: str = "") -> None:
    with atomic():
        _transition(application, "waitlist", actor, comment=comment)


def cancel(application: Application, actor: User, reason: str) -> None:
    """Give up an awarded voucher; its amount and quota place return to the budget."""
    with atomic():
        amount = application.awarded_amount
        _transition(application, "cancel", actor, comment=reason, amount=amount)
        if application.paid_amount > 0:
            raise TransitionNotAllowed("A voucher with payments cannot be cancelled.")
        budget.release(application.call_voucher_type, amount)


def start_reporting(application: Application, actor: User) -> FinalReport:
    with atomic():
        _transition(application, "start_reporting", actor)
        report = final_report_of(application)
        if report is None:
            report = FinalReport(application_id=application.id, status="draft")
            db.session.add(report)
    return report


def save_final_report(application: Application, actor: User, *, summary: str,
                      actual_costs) -> FinalReport:
    """Save the report's text and costs while the voucher is in reporting."""
    if application.state != lifecycle.REPORTING or not is_owner(actor, application):
        raise TransitionNotAllowed(
            "The final report can be edited by the applicant while the voucher is in reporting."
        )
    try:
        blank = actual_costs is None or str(actual_costs).strip() == ""
        costs = None if blank else to_money(actual_costs)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if costs is not None and costs < 0:
        raise InvalidInput("Actual costs cannot be negative.")
    with atomic():
        report = final_report_of(application) or FinalReport(application_id=application.id)
        report.summary = summary.strip()
        report.actual_costs = costs
        if report.status != "returned":
            report.status = "draft"
        db.session.add(report)
    return report


def submit_final_report(application: Application, actor: User) -> None:
    with atomic():
        _transition(application, "submit_report", actor)
        report = final_report_of(application)
        report.status = "submitted"
        report.submitted_at = utcnow()


def approve_report(application: Application, actor: User, comment: str = "") -> None:
    with atomic():
        _transition(application, "approve_report", actor, comment=comment)
        report = final_report_of(application)
        report.status = "approved"
        report.decided_at = utcnow()
        report.decision_comment = comment.strip()


def return_report(application: Application, actor: User, comment: str) -> None:
    with atomic():
        _transition(application, "return_report", actor, comment=comment)
        report = final_report_of(application)
        report.status = "returned"
        report.decided_at = utcnow()
        report.decision_comment = comment.strip()


def record_payment(application: Application, actor: User, amount, *, paid_on: date,
                   reference: str, invoice_number: str = "",
                   invoice_date: date | None = None) -> Payment:
    """Record money paid out; the payment that reaches the payable amount closes the voucher.

    Paid never exceeds min(actual costs x funding rate, awarded): the conditional update
    below and the paid_within_awarded CHECK both hold it.
    """
    if actor is None or actor.role != lifecycle.MANAGER:
        raise TransitionNotAllowed("Only a manager may record payments.")
    if application.state != lifecycle.COMPLETED:
        raise PaymentRefused("Payments are recorded once the final report is approved.")
    try:
        amount = to_money(amount)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if amount <= 0:
        raise InvalidInput("Give a payment amount greater than zero.")
    if not reference.strip():
        raise InvalidInput("Give the payment reference (bank transfer or ledger number).")
    if paid_on > today():
        raise InvalidInput("A payment cannot be dated in the future.")
    awarded_on = local_date(application.awarded_at)
    if paid_on < awarded_on:
        raise InvalidInput(f"A payment cannot be dated before the award ({awarded_on:%d %b %Y}).")
    if invoice_date is not None and invoice_date > today():
        raise InvalidInput("An invoice cannot be dated in the future.")
    payable = payable_amount(application)
    with atomic():
        a = Application.__table__
        result = db.session.execute(
            update(a)
            .where(a.c.id == application.id, a.c.paid_amount + amount <= payable)
            .values(paid_amount=a.c.paid_amount + amount, version=a.c.version + 1)
        )
        if result.rowcount != 1:
            db.session.expire(application, ["paid_amount"])
            raise PaymentRefused(
                f"€{amount:,.2f} is more than the €{payable - application.paid_amount:,.2f} "
                f"still payable (actual costs × funding rate, at most the award)."
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
            _transition(application, "pay", actor, amount=application.paid_amount,
                        comment=f"Paid in full ({reference.strip()}).")
    return payment


def available_actions(application: Application, user: User) -> list[lifecycle.Transition]:
    """The transitions whose buttons this user sees (the guards still decide on submit)."""
    if user.role == lifecycle.APPLICANT and not is_owner(user, application):
        return []
    return lifecycle.triggers_from(application.state, user.role)


__all__ = [
    "DomainError", "approve_report", "atomic", "available_actions", "award", "cancel",
    "completeness_problems", "create_draft", "final_report_of", "is_owner", "payable_amount",
    "record_payment", "reject", "return_for_changes", "return_report", "save_final_report",
    "start_reporting", "start_review", "submit", "submit_final_report", "waitlist", "withdraw",
]
