"""What the evaluator's pages show: their assignments and one application's reviews.

An evaluator is shown what concerns their own review, not how the application ended:
an application they never reviewed that has left review is "closed without your review",
never "rejected" or "awarded".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.orm import joinedload

from workflows import lifecycle

from ..extensions import db
from ..models import Application, Assignment, Review, User
from .attachments import attachments_of
from .reviews import review_of, reviews_of

PER_PAGE = 50

TO_REVIEW = "to_review"
REVIEWED = "reviewed"
CLOSED = "closed"
REVIEW_STATUS_LABELS = {
    TO_REVIEW: "To review",
    REVIEWED: "Reviewed",
    CLOSED: "Closed without your review",
}


@dataclass(frozen=True)
class AssignmentRow:
    application: Application
    review_status: str

    @property
    def review_label(self) -> str:
        return REVIEW_STATUS_LABELS[self.review_status]


def review_status(application: Application, reviewed: bool) -> str:
    """Where the evaluator's own review of ``application`` stands."""
    if reviewed:
        return REVIEWED
    return TO_REVIEW if application.state == lifecycle.UNDER_REVIEW else CLOSED


def assignments_page(evaluator: User, page: int = 1):
    """One page of the evaluator's standing assignments (no conflict declared): the ones
    still to review first, then the reviewed, then those closed without their review;
    newest assignments first within each group. Items are AssignmentRows."""
    reviewed_by_me = (
        select(Review.id)
        .where(Review.application_id == Assignment.application_id,
               Review.evaluator_id == Assignment.evaluator_id)
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
        select(Review.application_id).where(Review.evaluator_id == evaluator.id,
                                            Review.application_id.in_(ids))
    )) if ids else set()
    result.items = [AssignmentRow(a.application,
                                  review_status(a.application, a.application_id in reviewed))
                    for a in result.items]
    return result


def review_page(application: Application, evaluator: User) -> dict:
    """The evaluator's review, the others' (only once theirs is in: reviews are blind until
    then), their scores per criterion, and the application's own files."""
    mine = review_of(application, evaluator)
    submitted: list[Review] = []
    if mine is not None:
        submitted = reviews_of(application)
        # The evaluator's own review first; the others are numbered, not named.
        submitted.sort(key=lambda r: r.id != mine.id)
    return {
        "mine": mine,
        "submitted": submitted,
        "scores": {r.id: {s.criterion_id: s.score for s in r.scores} for r in submitted},
        # Evaluators judge the application: its quotes and CVs (policy.can_download).
        "attachments": attachments_of(application, "application"),
        "review_status": review_status(application, mine is not None),
        "review_status_labels": REVIEW_STATUS_LABELS,
    }
