"""Every lifecycle transition of an application, through one writer.

``fire`` is the one place a state changes: it asks the lifecycle (workflows/) whether the
trigger may fire, sets the state and writes the audit record, for one application or, in
``fire_many``, for a set of them at once. The decisions below (submit, award, reject, ...)
are built on it; the final report and payments are in reporting.py. Each runs inside
atomic(): a refused action raises a DomainError and leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import insert, update

from workflows import lifecycle
from workflows.lifecycle import TransitionRefused

from .. import policy
from .. import voucher_types as types
from ..clock import local_date
from ..extensions import db
from ..models import Application, AuditRecord, CallVoucherType, User
from ..models.base import utcnow
from ..money import ZERO, parse_amount, to_money
from ..text import clean_title
from . import (
    aid_register,
    deadlines,
    eligibility,
    ledger,
    notifications,
    partners,
    privacy,
    scoring,
    settlement,
    undertaking,
    versions,
)
from .errors import ConcurrentChange, InvalidInput, TransitionNotAllowed
from .lifecycle_refusals import refusal
from .transaction import atomic
from .wording import eur, in_sentence

# Bind parameters per statement stay well under SQLite's limit of 32,766.
_CHUNK = 5000


def completeness_problems(application: Application) -> list[str]:
    """What an applicant must still fill in before submitting."""
    problems = []
    cvt = application.call_voucher_type
    details = application.details or {}
    if not application.title.strip():
        problems.append(_("give a title"))
    if not (application.summary or "").strip():
        problems.append(_("describe the project"))
    if not application.cost_lines:
        problems.append(_("add at least one cost line"))
    requested = application.requested_amount or ZERO
    if requested <= 0:
        problems.append(_("give the amount requested"))
    elif requested > cvt.max_amount:
        problems.append(_("the amount requested exceeds the maximum of %(maximum)s",
                          maximum=eur(cvt.max_amount)))
    elif application.cost_lines:
        fundable = to_money(application.total_costs * cvt.funding_rate)
        if requested > fundable:
            rate = format(cvt.funding_rate * 100, ".0f")
            problems.append(_("the amount requested exceeds %(rate)s%% of the costs "
                              "(%(fundable)s)", rate=rate, fundable=eur(fundable)))
    voucher_type = types.get(application.voucher_type)
    for field in voucher_type.details:
        if not str(details.get(field.key) or "").strip():
            problems.append(_("fill in %(field)s", field=in_sentence(field.label)))
    period = types.period_problem(application.voucher_type, details)
    if period:
        period = _(period)
        problems.append(period[0].lower() + period[1:].rstrip("."))
    if voucher_type.needs_provider and application.provider_id is None:
        problems.append(_("choose a service provider"))
    elif voucher_type.needs_provider and not application.provider.active:
        problems.append(_("the chosen service provider has left the catalogue; choose another"))
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
        return policy.is_owner(self._actor, self._app)

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
        report = settlement.final_report_of(self._app)
        return bool(report and report.summary.strip() and report.actual_costs is not None)

    @property
    def fully_paid(self) -> bool:
        return self._app.paid_amount >= settlement.payable(self._app)


def _check(application: Application, trigger: str, actor: User | None, **facts) -> str:
    """Ask the lifecycle; return the destination state or raise TransitionNotAllowed."""
    subject = _Subject(application, actor, **facts)
    try:
        _, dest = lifecycle.fire(subject, trigger)
    except TransitionRefused as exc:
        raise TransitionNotAllowed(refusal(str(exc), application, trigger)) from exc
    return dest


def fire(application: Application, trigger: str, actor: User | None, *, comment: str = "",
         amount: Decimal | None = None, now: datetime | None = None) -> AuditRecord:
    """Fire ``trigger`` on one application and write its audit record (inside atomic())."""
    now = now or utcnow()
    source = application.state
    dest = _check(application, trigger, actor, comment=comment, amount=amount, now=now)
    application.state = dest
    record = AuditRecord(
        application_id=application.id, from_state=source, to_state=dest, trigger=trigger,
        actor_id=actor.id if actor else None, at=now, comment=comment.strip(), amount=amount,
    )
    db.session.add(record)
    return record


def fire_many(applications: Sequence[Application], trigger: str, actor: User, *,
              comment: str = "", now: datetime | None = None) -> list[int]:
    """Fire ``trigger`` on many applications with set-based writes (inside atomic()).

    Every application's guards run as for ``fire`` (one refusal refuses the whole set);
    the state changes in one conditional UPDATE per source state (and chunk), so a row
    that moved on meanwhile is not overwritten (the whole set is then refused), and the
    audit records go in as one multi-row INSERT.
    """
    now = now or utcnow()
    moves: dict[str, list[int]] = {}
    dest = None
    for application in applications:
        dest = _check(application, trigger, actor, comment=comment, now=now)
        moves.setdefault(application.state, []).append(application.id)
    if dest is None:
        return []
    t = Application.__table__
    moved: list[int] = []
    for source, ids in moves.items():
        for chunk in chunks(ids):
            moved.extend(db.session.scalars(
                update(t).where(t.c.id.in_(chunk), t.c.state == source)
                .values(state=dest, version=t.c.version + 1).returning(t.c.id)
            ))
    if len(moved) != len(applications):
        raise ConcurrentChange(_("Some applications changed state at the same moment; "
                                 "nothing was changed. Try again."))
    db.session.execute(insert(AuditRecord), [
        {"application_id": app_id, "from_state": source, "to_state": dest, "trigger": trigger,
         "actor_id": actor.id, "at": now, "comment": comment.strip()}
        for source, ids in moves.items() for app_id in ids
    ])
    # The UPDATE bypassed the identity map.
    for application in applications:
        db.session.expire(application)
    return moved


def chunks(items: Sequence, size: int = _CHUNK):
    """``items`` in slices small enough for one statement's bind parameters."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def create_draft(applicant: User, call_voucher_type: CallVoucherType, *, title: str,
                 now: datetime | None = None, **fields) -> Application:
    """A new draft application of the applicant's organisation."""
    now = now or utcnow()
    with atomic():
        policy.ensure(policy.can_apply(applicant), "Only applicants apply for vouchers.")
        title = clean_title(title)
        if applicant.organisation_id is None:
            raise InvalidInput(_("Only an applicant with a company profile can apply."))
        if applicant.email_verified_at is None:
            raise InvalidInput(_("Confirm your e-mail address first: follow the link we sent "
                                 "to %(email)s. No e-mail? Choose “Send the link again” at "
                                 "the top of the page.", email=applicant.email))
        if not call_voucher_type.call.is_open(now):
            raise TransitionNotAllowed(_("The call is not open for applications."))
        application = Application(
            reference=_new_reference(call_voucher_type), call_id=call_voucher_type.call_id,
            call_voucher_type_id=call_voucher_type.id,
            voucher_type=call_voucher_type.voucher_type,
            organisation_id=applicant.organisation_id, applicant_id=applicant.id,
            title=title, state=lifecycle.DRAFT, created_at=now, **fields,
        )
        partners.place(application)
        db.session.add(application)
        db.session.flush()
        db.session.add(AuditRecord(
            application_id=application.id, from_state=None, to_state=lifecycle.DRAFT,
            trigger="create", actor_id=applicant.id, at=now,
        ))
    return application


def _new_reference(cvt: CallVoucherType) -> str:
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
    return f"{cvt.call.code}-{types.get(cvt.voucher_type).reference_code}-{number:05d}"


def submit(application: Application, actor: User, now: datetime | None = None, *,
           publication_consent: bool = False) -> None:
    """``publication_consent``: the applicant's answer on this submission to the public
    list of operations (services/operations_list.py); each submission asks again."""
    now = now or utcnow()
    with atomic():
        fire(application, "submit", actor, now=now)
        application.submitted_at = now
        application.publication_consent = bool(publication_consent)
        privacy.record_submission_consents(application, actor, bool(publication_consent))
        partners.place(application)
        versions.record_submission(application, actor, now)
        # The rules are shown, not enforced, at submission: a manager may still accept an
        # exception with a reason; the award refuses what fails without one.
        eligibility.refresh_flag(application, now)
        notifications.submitted(application)


def withdraw(application: Application, actor: User, comment: str = "") -> None:
    with atomic():
        fire(application, "withdraw", actor, comment=comment)
        # A withdrawn application no longer counts towards the company's per-type limit.
        eligibility.refresh_company(application.organisation_id)


def return_for_changes(application: Application, actor: User, comment: str) -> None:
    with atomic():
        fire(application, "return_for_changes", actor, comment=comment)
        notifications.returned(application, comment)


def start_review(application: Application, actor: User | None) -> None:
    with atomic():
        fire(application, "start_review", actor)


def award(application: Application, actor: User, amount, comment: str = "",
          now: datetime | None = None) -> None:
    """Award ``amount`` (at most the request and the type's maximum) within the budget."""
    try:
        amount = parse_amount(amount)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    now = now or utcnow()
    with atomic():
        cvt = application.call_voucher_type
        fire(application, "award", actor, comment=comment, amount=amount, now=now)
        # Set with the state, so any flush below meets the awarded_amount CHECK.
        application.awarded_amount = amount
        application.awarded_at = now
        application.decided_at = now
        application.decision_reason = comment.strip()
        if amount > application.requested_amount:
            raise InvalidInput(_("The award (%(amount)s) cannot exceed the amount requested "
                                 "(%(requested)s).", amount=eur(amount),
                                 requested=eur(application.requested_amount)))
        if amount > cvt.max_amount:
            raise InvalidInput(_("The award (%(amount)s) exceeds the %(type)s maximum of "
                                 "%(maximum)s.", amount=eur(amount), type=in_sentence(cvt.label),
                                 maximum=eur(cvt.max_amount)))
        # The undertaking's lock first: the limits below read its other awards.
        standing = undertaking.check_award(application, amount, now)
        eligibility.ensure_awardable(application, now, standing)
        scoring.ensure_above_threshold(application)
        ledger.book_award(application, actor, local_date(now), now=now)
        aid_register.record_grant(application, now)
        eligibility.refresh_company(application.organisation_id, now)
        application.report_due_on = deadlines.report_due_on(application, local_date(now))
        notifications.awarded(application)


def reject(application: Application, actor: User, reason: str) -> None:
    with atomic():
        fire(application, "reject", actor, comment=reason)
        application.decided_at = utcnow()
        application.decision_reason = reason.strip()
        notifications.rejected(application, reason)


def waitlist(application: Application, actor: User, comment: str = "") -> None:
    with atomic():
        fire(application, "waitlist", actor, comment=comment)
        notifications.waitlisted(application)


def cancel(application: Application, actor: User, reason: str,
           now: datetime | None = None) -> None:
    """Give up an awarded voucher; its quota place and what was not paid return to the
    budget at once, an advance paid when it is recovered (services/payments.py)."""
    now = now or utcnow()
    with atomic():
        settlement.ensure_not_in_open_batch(application, _("cancelling the voucher"))
        fire(application, "cancel", actor, comment=reason, now=now,
             amount=application.committed_amount)
        # The voucher's reason is now the cancellation's, not the award's.
        application.decision_reason = reason.strip()
        settlement.settle(application, actor, booked_on=local_date(now), now=now,
                          quota_back=True, reason="Cancelled voucher: " + reason.strip())
        eligibility.refresh_company(application.organisation_id)


def available_actions(application: Application, user: User) -> list[lifecycle.Transition]:
    """The transitions whose buttons this user sees (the guards still decide on submit)."""
    return [t for t in lifecycle.triggers_from(application.state, user.role)
            if policy.can_fire(user, application, t.trigger)]
