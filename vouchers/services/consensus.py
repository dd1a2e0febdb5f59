"""The consensus score: what the evaluators agreed on, per criterion, for one version.

A manager or the call's lead evaluator records it once the current version has a review;
recording again replaces it (the audit trail keeps each one's score). Ranking then uses
its weighted score (Application.consensus_score) instead of the evaluators' mean.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from .. import policy
from ..extensions import db
from ..models import (
    Application,
    Assignment,
    AuditRecord,
    Call,
    Consensus,
    ConsensusScore,
    Review,
    User,
)
from ..models.base import utcnow
from . import reviews, scoring
from .errors import InvalidInput, TransitionNotAllowed
from .transaction import atomic

RECORDED_TWICE = "uq_consensus_app_version"
MAX_COMMENT = 10000
NOT_ALLOWED = "Only a manager or the call's lead evaluator records the consensus."
# The lead evaluator's home lists at most this many, those with divergent scores first.
QUEUE_LIMIT = 100


@dataclass(frozen=True)
class ConsensusPage:
    """What the consensus page shows: the current reviews side by side and their means."""

    reviews: list[Review]
    scores_of: dict[int, dict[int, int | None]]
    criteria: list[scoring.CriterionScore]
    consensus: Consensus | None
    # The lead evaluator is assigned and has not reviewed: the reviews stay hidden.
    blind: bool


def lead_must_review_first(user: User, application: Application) -> bool:
    """Reviews are blind: a lead evaluator who is also assigned sees the others' scores
    only once their own review of the current version is in."""
    if policy.can_manage(user) or policy.standing_assignment(user, application) is None:
        return False
    return reviews.review_of(application, user) is None


def consensus_page(application: Application, user: User) -> ConsensusPage:
    blind = lead_must_review_first(user, application)
    current = [] if blind else scoring.current_reviews(application)
    consensus = scoring.current_consensus(application)
    return ConsensusPage(
        reviews=current,
        scores_of={r.id: {s.criterion_id: s.score for s in r.scores} for r in current},
        criteria=scoring.criterion_scores(application, current, consensus),
        consensus=consensus, blind=blind,
    )


def _check(application: Application, scores: dict[int, int | None], comment: str) -> None:
    cvt = application.call_voucher_type
    problems = reviews.score_problems(
        cvt, scores, _("score %(criterion)s (or mark it not applicable)"))
    unknown = set(scores) - {c.id for c in cvt.criteria}
    if unknown:
        problems.append(_("score only the call's criteria"))
    if not problems and all(scores[c.id] is None for c in cvt.criteria):
        problems.append(_("score at least one criterion"))
    if not comment.strip():
        problems.append(_("write a comment saying how the evaluators agreed"))
    elif len(comment) > MAX_COMMENT:
        problems.append(_("keep the comment under %(count)s characters", count=MAX_COMMENT))
    if problems:
        raise InvalidInput(_("The consensus is incomplete: %(problems)s.",
                             problems="; ".join(problems)))


def record(application: Application, by: User, scores: dict[int, int | None], comment: str,
           criterion_comments: dict[int, str] | None = None) -> Consensus:
    """Record (or replace) the consensus of the current version; scores 0..scale or None
    for "not applicable", per criterion of the call."""
    criterion_comments = criterion_comments or {}
    with atomic(clashes={RECORDED_TWICE: _("A consensus was recorded at the same moment; "
                                           "reload the page to see it.")}):
        policy.ensure(policy.can_record_consensus(by, application), NOT_ALLOWED)
        if lead_must_review_first(by, application):
            raise TransitionNotAllowed(_("Submit your own review of this application first; "
                                         "the consensus is recorded on all the reviews."))
        # review_count counts the current version's reviews only.
        if not application.review_count:
            raise TransitionNotAllowed(_("A consensus is recorded once an evaluator has "
                                         "reviewed the current version."))
        _check(application, scores, comment)
        criteria = application.call_voucher_type.criteria
        total = reviews.weighted_score(scores, criteria)
        consensus = scoring.current_consensus(application) or Consensus(
            application_id=application.id, version=application.submission_number)
        now = utcnow()
        consensus.weighted_score = total
        consensus.comment = comment.strip()
        consensus.recorded_by_id = by.id
        consensus.recorded_at = now
        # Updated in place, criterion by criterion: a replaced row would be inserted
        # before the old one is deleted and meet the unique (consensus, criterion).
        existing = {s.criterion_id: s for s in consensus.scores}
        for c in criteria:
            row = existing.get(c.id) or ConsensusScore(criterion_id=c.id)
            row.score = scores[c.id]
            row.comment = (criterion_comments.get(c.id) or "").strip()
            if row.criterion_id not in existing:
                consensus.scores.append(row)
        db.session.add(consensus)
        application.consensus_score = total
        db.session.add(AuditRecord(
            application_id=application.id, from_state=application.state,
            to_state=application.state, trigger="consensus", actor_id=by.id, at=now,
            comment=f"Consensus score recorded: {total} of "
                    f"{application.call_voucher_type.score_scale}.",
        ))
    return consensus


@dataclass(frozen=True)
class QueueRow:
    application: Application
    recorded: bool


def lead_queue(user: User) -> list[QueueRow]:
    """For the lead evaluator's home: the applications of the calls they lead on which
    they may record a consensus now (reviewed in the current version, no conflict of
    theirs), divergent ones first, with whether a consensus is recorded yet."""
    if not policy.can_evaluate(user):
        return []
    a = Application
    reviewed = select(Review.id).where(Review.application_id == a.id,
                                       Review.version == a.submission_number).exists()
    conflicted = select(Assignment.id).where(
        Assignment.application_id == a.id, Assignment.evaluator_id == user.id,
        Assignment.conflict_declared_at.is_not(None)).exists()
    rows = db.session.execute(
        select(a, Consensus.id)
        .join(Call, Call.id == a.call_id)
        .outerjoin(Consensus, and_(Consensus.application_id == a.id,
                                   Consensus.version == a.submission_number))
        .where(Call.lead_evaluator_id == user.id, a.state.in_(policy.CONSENSUS_STATES),
               reviewed, ~conflicted)
        .options(joinedload(a.call))
        .order_by(a.divergent.desc(), a.submitted_at, a.id)
        .limit(QUEUE_LIMIT)
    )
    return [QueueRow(application, consensus_id is not None) for application, consensus_id in rows]
