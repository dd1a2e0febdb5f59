"""What the evaluator's pages show: their assignments and one application's reviews.

An evaluator is shown what concerns their own review, not how the application ended:
an application they never reviewed that has left review is "closed without your review",
never "rejected" or "awarded". "Reviewed" means the current version; until they confirm
they have no conflict of interest, an application is "to confirm" and its page shows
nothing of its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from workflows import lifecycle

from .. import policy
from ..clock import today
from ..extensions import db
from ..models import Application, Assignment, Review, User
from . import deadlines, versions
from .attachments import attachments_of
from .reviews import counts, review_of, reviews_of
from .wording import N_

PER_PAGE = 50

TO_CONFIRM = "to_confirm"
TO_REVIEW = "to_review"
REVIEWED = "reviewed"
CHANGING = "changing"
CLOSED = "closed"
# English (the API gives them so); the evaluator's pages translate them where they show them.
REVIEW_STATUS_LABELS = {
    TO_CONFIRM: N_("To confirm: no conflict of interest"),
    TO_REVIEW: N_("To review"),
    CHANGING: N_("Being changed: you review the next version"),
    REVIEWED: N_("Reviewed"),
    CLOSED: N_("Closed without your review"),
}


@dataclass(frozen=True)
class AssignmentRow:
    application: Application
    review_status: str
    # Today in the programme's time zone, for the review deadline (services/deadlines.py).
    on: date | None = None

    @property
    def review_label(self) -> str:
        return REVIEW_STATUS_LABELS[self.review_status]

    @property
    def deadline(self) -> deadlines.Deadline | None:
        """The call's review deadline while this evaluator's review is still to come."""
        return deadlines.review_deadline(self.application.call,
                                         self.review_status in (TO_CONFIRM, TO_REVIEW), self.on)


def review_status(application: Application, reviewed: bool, confirmed: bool = True) -> str:
    """Where the evaluator's own review of ``application`` (its current version) stands."""
    if application.state == lifecycle.RETURNED:
        return CHANGING
    if reviewed:
        return REVIEWED
    if application.state != lifecycle.UNDER_REVIEW:
        return CLOSED
    return TO_REVIEW if confirmed else TO_CONFIRM


def assignments_page(evaluator: User, page: int = 1):
    """One page of the evaluator's standing assignments (no conflict declared): the ones
    still to review first, then the reviewed, then those closed without their review;
    newest assignments first within each group. Items are AssignmentRows."""
    reviewed_by_me = (
        select(Review.id)
        .where(Review.application_id == Assignment.application_id,
               Review.evaluator_id == Assignment.evaluator_id,
               Review.version == Application.submission_number)
        .exists()
    )
    group = case((reviewed_by_me, 1), (Application.state == lifecycle.UNDER_REVIEW, 0),
                 else_=2)
    query = (
        select(Assignment)
        .join(Assignment.application)
        .where(Assignment.evaluator_id == evaluator.id,
               Assignment.conflict_declared_at.is_(None))
        .options(joinedload(Assignment.application).joinedload(Application.organisation),
                 joinedload(Assignment.application).joinedload(Application.call))
        .order_by(group, Assignment.assigned_at.desc(), Assignment.id.desc())
    )
    result = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    ids = [a.application_id for a in result.items]
    reviewed = set(db.session.scalars(
        select(Review.application_id).join(Application, Application.id == Review.application_id)
        .where(Review.evaluator_id == evaluator.id, Review.application_id.in_(ids),
               Review.version == Application.submission_number)
    )) if ids else set()
    on = today()
    result.items = [AssignmentRow(a.application,
                                  review_status(a.application, a.application_id in reviewed,
                                                a.no_conflict_confirmed_at is not None), on)
                    for a in result.items]
    return result


def review_page(application: Application, evaluator: User) -> dict:
    """What the evaluator's page of ``application`` shows.

    Until the evaluator confirms they have no conflict: nothing of the content (the
    template shows the reference, title, company and the two choices). Then the
    application, its files and versions, their own review of the current version, and
    the others' reviews of a version only once theirs of that version is in (reviews are
    blind); reviews of earlier versions are shown apart, as no longer counting.
    """
    confirmed = policy.confirmed_assignment(evaluator, application) is not None
    mine = review_of(application, evaluator) if confirmed else None
    page = {
        "confirmed": confirmed, "mine": mine, "submitted": [], "earlier": [], "scores": {},
        "attachments": [], "versions": [],
        "review_status": review_status(application, mine is not None, confirmed),
        "review_status_labels": REVIEW_STATUS_LABELS,
    }
    if not confirmed:
        return page
    everything = reviews_of(application)
    my_versions = {r.version for r in everything if r.evaluator_id == evaluator.id}
    # The evaluator's own review first; the others are numbered, not named.
    seen = sorted((r for r in everything if r.version in my_versions),
                  key=lambda r: (-r.version, r.evaluator_id != evaluator.id, r.id))
    submitted = [r for r in seen if counts(r, application)]
    earlier = [r for r in seen if not counts(r, application)]
    page.update(
        submitted=submitted, earlier=earlier,
        scores={r.id: {s.criterion_id: s.score for s in r.scores} for r in seen},
        # Evaluators judge the application: its quotes and CVs (policy.can_download).
        attachments=attachments_of(application, "application"),
        versions=versions.versions_of(application),
    )
    return page
