"""Evaluator assignment, conflicts of interest and blind reviews, per version.

A review judges one version of the application (Review.version = the submission number
it was written on); only reviews of the current version count towards review_count and
weighted_score. An evaluator confirms they have no conflict of interest before they see
an application's content or review it; a manager may unassign one who has not reviewed
the current version.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import flag_modified

from workflows import lifecycle

from .. import policy
from ..extensions import db
from ..models import (
    RECOMMENDATIONS,
    Application,
    Assignment,
    AuditRecord,
    CallVoucherType,
    Review,
    ReviewScore,
    User,
)
from ..models.base import Money, utcnow
from . import notifications, scoring
from .errors import InvalidInput, TransitionNotAllowed
from .transaction import atomic
from .transitions import start_review
from .wording import N_

REVIEWABLE_STATES = policy.REVIEWABLE_STATES
# The unique (application, evaluator) constraints: one assignment, one review per pair.
ASSIGNED_TWICE = "uq_assignments_app_evaluator"
REVIEWED_TWICE = "uq_reviews_app_evaluator"
NOT_ASSIGNED = "This application is not assigned to you."
ALREADY_REVIEWED = N_("You have already submitted your review.")
CONFIRM_FIRST = N_("Confirm that you have no conflict of interest (or declare one) before "
                   "you review this application.")
# Where an evaluator may still be taken off: while the application awaits or is under review.
UNASSIGNABLE_STATES = policy.UNASSIGNABLE_STATES


def assign(application: Application, evaluator: User, by: User) -> Assignment:
    """Ask an evaluator to review; a submitted application moves under review."""
    already = _("%(name)s is already assigned.", name=evaluator.name)
    with atomic(clashes={ASSIGNED_TWICE: already}):
        policy.ensure(policy.can_manage(by, application), "Only a manager assigns evaluators.")
        problem = policy.may_be_assigned(evaluator, application)
        if problem:
            raise InvalidInput(problem)
        if application.state not in REVIEWABLE_STATES:
            raise TransitionNotAllowed(_("Only submitted applications and those under "
                                         "review can get evaluators."))
        existing = assignment_of(application, evaluator)
        if existing is not None:
            if existing.has_conflict:
                raise InvalidInput(_("%(name)s declared a conflict of interest on this "
                                     "application.", name=evaluator.name))
            raise InvalidInput(already)
        assignment = Assignment(application_id=application.id, evaluator_id=evaluator.id,
                                assigned_by_id=by.id)
        db.session.add(assignment)
        if application.state == lifecycle.SUBMITTED:
            start_review(application, by)
        notifications.assigned([(application.id, evaluator.id)])
    return assignment


def assignment_of(application: Application, evaluator: User) -> Assignment | None:
    return db.session.scalar(
        select(Assignment).where(Assignment.application_id == application.id,
                                 Assignment.evaluator_id == evaluator.id)
    )


def active_assignment(application: Application, evaluator: User) -> Assignment | None:
    """The evaluator's assignment if it stands (assigned and no conflict declared)."""
    a = assignment_of(application, evaluator)
    return a if a is not None and not a.has_conflict else None


def declare_conflict(application: Application, evaluator: User, reason: str) -> None:
    with atomic():
        assignment = policy.standing_assignment(evaluator, application)
        policy.ensure(assignment is not None, NOT_ASSIGNED)
        if review_of(application, evaluator) is not None:
            raise InvalidInput(_("You have already reviewed this version of the "
                                 "application."))
        if not reason.strip():
            raise InvalidInput(_("Say briefly why you have a conflict of interest."))
        assignment.conflict_declared_at = utcnow()
        assignment.conflict_reason = reason.strip()


def confirm_no_conflict(application: Application, evaluator: User) -> Assignment:
    """The evaluator confirms they have no conflict of interest: now they may read it.

    Confirming twice keeps the first confirmation (a double click changes nothing)."""
    with atomic():
        assignment = policy.standing_assignment(evaluator, application)
        policy.ensure(assignment is not None, NOT_ASSIGNED)
        if assignment.no_conflict_confirmed_at is None:
            assignment.no_conflict_confirmed_at = utcnow()
    return assignment


def unassign(assignment: Assignment, by: User, reason: str = "") -> None:
    """Take an evaluator off an application they have not reviewed (in its current
    version); the audit trail says who was taken off, by whom and why."""
    with atomic():
        policy.ensure(policy.can_manage(by, assignment), "Only a manager unassigns evaluators.")
        application, evaluator = assignment.application, assignment.evaluator
        if assignment.has_conflict:
            raise InvalidInput(_("%(name)s declared a conflict of interest; that record "
                                 "stays, so they are never assigned again.",
                                 name=evaluator.name))
        if application.state not in UNASSIGNABLE_STATES:
            raise TransitionNotAllowed(_("Evaluators can be unassigned only while the "
                                         "application awaits or is under review."))
        if review_of(application, evaluator) is not None:
            raise InvalidInput(_("%(name)s has already reviewed version %(version)s; a "
                                 "submitted review stays.", name=evaluator.name,
                                 version=application.submission_number))
        comment = f"{evaluator.name} unassigned as evaluator."
        if reason.strip():
            comment += f" {reason.strip()}"
        db.session.add(AuditRecord(
            application_id=application.id, from_state=application.state,
            to_state=application.state, trigger="unassign", actor_id=by.id, comment=comment,
        ))
        # Bumps the application's version: a review submitted at the same moment (which
        # updates the application too) and this cannot both succeed.
        flag_modified(application, "state")
        db.session.delete(assignment)


def reviews_of(application: Application) -> list[Review]:
    """All the application's reviews, of every version, with their scores, in the order
    they came in. Only those with ``version == application.submission_number`` count."""
    return list(db.session.scalars(
        select(Review).where(Review.application_id == application.id)
        .options(selectinload(Review.scores), joinedload(Review.evaluator))
        .order_by(Review.submitted_at, Review.id)
    ))


def counts(review: Review, application: Application) -> bool:
    """Whether ``review`` judged the application's current version."""
    return review.version == application.submission_number


def review_of(application: Application, evaluator: User,
              version: int | None = None) -> Review | None:
    """The evaluator's review of ``version`` (by default the current one)."""
    version = application.submission_number if version is None else version
    return db.session.scalar(
        select(Review).where(Review.application_id == application.id,
                             Review.evaluator_id == evaluator.id, Review.version == version)
    )


def weighted_score(scores: dict, criteria) -> Decimal | None:
    """Weighted mean over the criteria scored; "not applicable" (None) is left out."""
    total = Decimal(0)
    weights = Decimal(0)
    for criterion in criteria:
        score = scores.get(criterion.id)
        if score is None:
            continue
        total += Decimal(score) * criterion.weight
        weights += criterion.weight
    if not weights:
        return None
    return (total / weights).quantize(Decimal("0.01"))


def score_problems(cvt: CallVoucherType, scores: dict[int, int | None],
                   missing: str | None = None) -> list[str]:
    """What is wrong with scores per criterion (each 0..scale, or None: not applicable);
    ``missing`` words an unscored criterion (a template with ``%(criterion)s``). Reviews
    and the consensus both use it."""
    problems = []
    for c in cvt.criteria:
        if c.id not in scores:
            problems.append(_("score %(criterion)s", criterion=c.name) if missing is None
                            else missing % {"criterion": c.name})
        elif scores[c.id] is not None and not 0 <= scores[c.id] <= cvt.score_scale:
            problems.append(_("%(criterion)s must be between 0 and %(scale)s",
                              criterion=c.name, scale=cvt.score_scale))
    return problems


def _check_review(cvt: CallVoucherType, scores: dict[int, int | None], recommendation: str,
                  comment: str) -> None:
    problems = score_problems(cvt, scores)
    if recommendation not in RECOMMENDATIONS:
        problems.append(_("choose a recommendation"))
    if not comment.strip():
        problems.append(_("write a comment"))
    if problems:
        raise InvalidInput(_("The review is incomplete: %(problems)s.",
                             problems="; ".join(problems)))


def submit_review(application: Application, evaluator: User, *, scores: dict[int, int | None],
                  recommendation: str, comment: str) -> Review:
    """Score every criterion of the call (0..scale, or None for not applicable), on the
    current version; the application's figures are those of this version's reviews."""
    with atomic(clashes={REVIEWED_TWICE: _(ALREADY_REVIEWED)}):
        assignment = policy.standing_assignment(evaluator, application)
        policy.ensure(assignment is not None, NOT_ASSIGNED)
        if assignment.no_conflict_confirmed_at is None:
            raise InvalidInput(_(CONFIRM_FIRST))
        if not policy.can_review(evaluator, application):
            raise TransitionNotAllowed(_("Reviews are accepted while the application is "
                                         "under review."))
        if review_of(application, evaluator) is not None:
            raise InvalidInput(_(ALREADY_REVIEWED))
        cvt = application.call_voucher_type
        criteria = cvt.criteria
        _check_review(cvt, scores, recommendation, comment)
        version = application.submission_number
        review = Review(
            application_id=application.id, evaluator_id=evaluator.id, version=version,
            recommendation=recommendation, comment=comment.strip(),
            weighted_score=weighted_score(scores, criteria),
            scores=[ReviewScore(criterion_id=c.id, score=scores[c.id]) for c in criteria],
        )
        db.session.add(review)
        db.session.flush()
        count, mean = db.session.execute(
            # type_: the average is money-typed (whole cents inside SQLite, see Money).
            select(func.count(Review.id), func.avg(Review.weighted_score, type_=Money()))
            .where(Review.application_id == application.id, Review.version == version)
        ).one()
        application.review_count = count
        application.weighted_score = mean
        scoring.after_review(application)
    return review
