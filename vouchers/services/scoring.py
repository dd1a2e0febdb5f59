"""Thresholds, divergence and the score an application ranks by.

Only the current version counts: a review judges one version (Review.version), a consensus
is recorded for one (Consensus.version), and those of earlier versions no longer count.
"Not applicable" scores are left out of every mean, never counted as zero.

The score an application ranks by is its consensus score where one is recorded, else the
mean of its current reviews' weighted scores (both kept on the Application row, so the
ranking sorts in SQL: ``RANKING_SCORE``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import (
    Application,
    Assignment,
    Call,
    CallVoucherType,
    Consensus,
    ConsensusScore,
    Criterion,
    Review,
    ReviewScore,
)
from ..models.base import CENT
from .errors import BelowThreshold
from .transaction import atomic

# Assignment.reason of the extra evaluator asked because the scores diverge.
DIVERGENCE = "divergence"
RANKING_SCORE = func.coalesce(Application.consensus_score, Application.weighted_score)


@dataclass(frozen=True)
class CriterionScore:
    criterion: Criterion
    # The evaluators' mean on the current version, "not applicable" left out.
    mean: Decimal | None
    # The consensus's score where a consensus is recorded (None there: not applicable).
    consensus: int | None = None
    has_consensus: bool = False

    @property
    def score(self) -> Decimal | None:
        """What counts for the criterion's minimum: the consensus's, else the mean."""
        if self.has_consensus:
            return None if self.consensus is None else Decimal(self.consensus)
        return self.mean


@dataclass(frozen=True)
class Divergence:
    # Highest minus lowest weighted total; None until two reviews have a total.
    spread: Decimal | None
    share: Decimal
    limit: Decimal

    @property
    def divergent(self) -> bool:
        return self.spread is not None and self.spread > self.limit


@dataclass(frozen=True)
class ScoringSummary:
    """What the manager's application page shows of thresholds, divergence, consensus."""

    scale: int
    reviewed: int
    ranking_score: Decimal | None
    threshold: Decimal | None
    problems: list[str]
    criteria: list[CriterionScore]
    divergence: Divergence
    divergent: bool
    extra_wanted: bool
    extra: Assignment | None
    consensus: Consensus | None
    consensus_scores: dict[int, ConsensusScore] = field(default_factory=dict)

    @property
    def passes(self) -> bool | None:
        """None while there is nothing to judge (no review of the current version)."""
        return None if not self.reviewed else not self.problems

    @property
    def extra_unavailable(self) -> bool:
        return self.divergent and self.extra_wanted and self.extra is None


def ranking_score(application: Application) -> Decimal | None:
    if application.consensus_score is not None:
        return application.consensus_score
    return application.weighted_score


def current_reviews(application: Application) -> list[Review]:
    """The reviews of the current version with their scores, in the order they came in."""
    return list(db.session.scalars(
        select(Review).where(Review.application_id == application.id,
                             Review.version == application.submission_number)
        .options(selectinload(Review.scores), joinedload(Review.evaluator))
        .order_by(Review.submitted_at, Review.id)
    ))


def current_consensus(application: Application) -> Consensus | None:
    return db.session.scalar(
        select(Consensus).where(Consensus.application_id == application.id,
                                Consensus.version == application.submission_number)
        .options(selectinload(Consensus.scores), joinedload(Consensus.recorded_by))
    )


def mean(values) -> Decimal | None:
    scored = [v for v in values if v is not None]
    if not scored:
        return None
    return (Decimal(sum(scored)) / len(scored)).quantize(CENT, rounding=ROUND_HALF_UP)


def _criterion_scores(cvt: CallVoucherType, given: dict[int, list[int | None]],
                      consensus: dict[int, int | None] | None) -> list[CriterionScore]:
    return [CriterionScore(c, mean(given.get(c.id, ())),
                           consensus.get(c.id) if consensus is not None else None,
                           consensus is not None)
            for c in cvt.criteria]


_UNREAD = object()


def criterion_scores(application: Application, reviews: list[Review] | None = None,
                     consensus=_UNREAD) -> list[CriterionScore]:
    """Each criterion's score on the current version; reads the reviews and the consensus
    (a Consensus, or None for none) where they are not given."""
    reviews = current_reviews(application) if reviews is None else reviews
    if consensus is _UNREAD:
        consensus = current_consensus(application)
    given: dict[int, list[int | None]] = defaultdict(list)
    for review in reviews:
        for s in review.scores:
            given[s.criterion_id].append(s.score)
    agreed = ({s.criterion_id: s.score for s in consensus.scores}
              if consensus is not None else None)
    return _criterion_scores(application.call_voucher_type, given, agreed)


def _problems(cvt: CallVoucherType, total: Decimal | None,
              criteria: list[CriterionScore]) -> list[str]:
    scale = cvt.score_scale
    problems = []
    if cvt.threshold is not None:
        if total is None:
            problems.append(_("Every criterion was marked not applicable, so there is no "
                              "weighted total to reach the call's threshold of "
                              "%(threshold)s.", threshold=cvt.threshold))
        elif total < cvt.threshold:
            problems.append(_("Scored %(total)s of %(scale)s in total (weighted); the call "
                              "asks at least %(threshold)s.", total=total, scale=scale,
                              threshold=cvt.threshold))
    for c in criteria:
        minimum = c.criterion.minimum
        if minimum is not None and c.score is not None and c.score < minimum:
            problems.append(_("Scored %(score)s of %(scale)s on %(criterion)s; the call asks "
                              "at least %(minimum)s.", score=c.score, scale=scale,
                              criterion=c.criterion.name, minimum=minimum))
    return problems


def threshold_problems(application: Application) -> list[str]:
    """Why the application is below its call's thresholds, as sentences; [] if it is not.

    With no review of the current version there is nothing to judge yet (the lifecycle's
    review guard refuses the decision for that reason).
    """
    cvt = application.call_voucher_type
    if cvt.threshold is None and all(c.minimum is None for c in cvt.criteria):
        return []  # no threshold to reach: the reviews need not be read (an award's path)
    reviews = current_reviews(application)
    if not reviews:
        return []
    criteria = criterion_scores(application, reviews, current_consensus(application))
    return _problems(application.call_voucher_type, ranking_score(application), criteria)


def criterion_scores_of(cvt: CallVoucherType, application_ids
                        ) -> dict[int, list[CriterionScore]]:
    """criterion_scores for many applications of ``cvt`` (the ranking), two queries per
    chunk of ids. Applications without a current review are left out."""
    ids = list(application_ids)
    scores: dict[int, list[CriterionScore]] = {}
    for start in range(0, len(ids), _CHUNK):
        scores.update(_criterion_scores_of(cvt, ids[start:start + _CHUNK]))
    return scores


def threshold_problems_of(cvt: CallVoucherType, application_ids,
                          criteria: dict[int, list[CriterionScore]] | None = None
                          ) -> dict[int, list[str]]:
    """threshold_problems for many applications of ``cvt``; ``criteria``: their
    criterion_scores_of where read already. Applications without a current review are
    left out, as threshold_problems has nothing to say of them."""
    ids = list(application_ids)
    if criteria is None:
        criteria = criterion_scores_of(cvt, ids)
    a = Application
    totals: dict[int, Decimal | None] = {}
    for start in range(0, len(ids), _CHUNK):
        totals.update(db.session.execute(
            select(a.id, RANKING_SCORE).where(a.id.in_(ids[start:start + _CHUNK]))).all())
    return {app_id: _problems(cvt, totals.get(app_id), scores)
            for app_id, scores in criteria.items() if app_id in totals}


# Ids per IN list: well under any database's limit on bound parameters.
_CHUNK = 500


def _criterion_scores_of(cvt: CallVoucherType, ids: list[int]
                         ) -> dict[int, list[CriterionScore]]:
    a = Application
    current = (a.call_voucher_type_id == cvt.id) & a.id.in_(ids)
    given: dict[int, dict[int, list[int | None]]] = defaultdict(lambda: defaultdict(list))
    for app_id, criterion_id, score in db.session.execute(
        # Outer: a review counts (for the total's threshold) even without scores.
        select(Review.application_id, ReviewScore.criterion_id, ReviewScore.score)
        .outerjoin(ReviewScore, ReviewScore.review_id == Review.id)
        .join(a, (a.id == Review.application_id) & (a.submission_number == Review.version))
        .where(current)
    ):
        given[app_id][criterion_id].append(score)
    agreed: dict[int, dict[int, int | None]] = defaultdict(dict)
    for app_id, criterion_id, score in db.session.execute(
        select(Consensus.application_id, ConsensusScore.criterion_id, ConsensusScore.score)
        .join(ConsensusScore, ConsensusScore.consensus_id == Consensus.id)
        .join(a, (a.id == Consensus.application_id)
              & (a.submission_number == Consensus.version))
        .where(current)
    ):
        agreed[app_id][criterion_id] = score
    return {app_id: _criterion_scores(cvt, scores, agreed.get(app_id))
            for app_id, scores in given.items()}


def ensure_above_threshold(application: Application) -> None:
    problems = threshold_problems(application)
    if problems:
        raise BelowThreshold(_("This application is below the call's threshold and cannot "
                               "be awarded. %(problems)s", problems=" ".join(problems)))


# --- divergence ------------------------------------------------------------------------


def divergence(application: Application, totals: list[Decimal] | None = None) -> Divergence:
    """How far apart the current reviews' weighted totals are, against the call's share."""
    if totals is None:
        totals = list(db.session.scalars(
            select(Review.weighted_score).where(
                Review.application_id == application.id,
                Review.version == application.submission_number,
                Review.weighted_score.is_not(None))
        ))
    totals = [t for t in totals if t is not None]
    share = application.call.divergence_share
    return Divergence(spread=max(totals) - min(totals) if len(totals) >= 2 else None,
                      share=share, limit=share * application.call_voucher_type.score_scale)


def extra_evaluator(application: Application) -> Assignment | None:
    """The evaluator added for divergent scores on the current version, if any.

    An assignment does not name a version; one made since the version was submitted is
    this version's (its evaluators stay on for the next version, but do not count as its
    extra evaluator).
    """
    query = (select(Assignment).where(Assignment.application_id == application.id,
                                      Assignment.reason == DIVERGENCE)
             .options(joinedload(Assignment.evaluator)).order_by(Assignment.id).limit(1))
    # The current version's submission (transitions.submit dates both alike).
    began = application.submitted_at
    if began is not None:
        query = query.where(Assignment.assigned_at >= began)
    return db.session.scalar(query)


def after_review(application: Application) -> None:
    """Called by reviews.submit_review once the application's figures are updated.

    Flags divergent scores; where the call says so, asks one more evaluator (once per
    version). With no evaluator left to ask, the flag stays and the page says so.
    """
    # Imported here: assignment needs reviews and transitions, which import this module.
    from .assignment import assign_extra

    with atomic():
        application.divergent = divergence(application).divergent
        if (application.divergent and application.call.extra_evaluator_on_divergence
                and extra_evaluator(application) is None):
            assign_extra(application)


# Where a divergence flag still matters: a decision is yet to come.
_UNDECIDED = ("submitted", "under_review", "waitlisted")


def refresh_divergence(call: Call) -> int:
    """Flag again the call's undecided applications once its divergence share changed
    (inside the caller's atomic()); returns how many flags changed. No extra evaluator is
    asked for here: that follows a review, as the call's rule says."""
    changed = 0
    for application in db.session.scalars(
            select(Application).where(Application.call_id == call.id,
                                      Application.state.in_(_UNDECIDED))):
        divergent = divergence(application).divergent
        if divergent != application.divergent:
            application.divergent = divergent
            changed += 1
    return changed


def summary(application: Application, reviews: list[Review] | None = None) -> ScoringSummary:
    """What the application's page shows of thresholds, divergence and consensus;
    ``reviews``: the current version's, where the page has read them already."""
    reviews = current_reviews(application) if reviews is None else reviews
    consensus = current_consensus(application)
    criteria = criterion_scores(application, reviews, consensus)
    cvt = application.call_voucher_type
    total = ranking_score(application)
    return ScoringSummary(
        scale=cvt.score_scale, reviewed=len(reviews), ranking_score=total,
        threshold=cvt.threshold,
        problems=_problems(cvt, total, criteria) if reviews else [], criteria=criteria,
        divergence=divergence(application, [r.weighted_score for r in reviews]),
        divergent=application.divergent,
        extra_wanted=application.call.extra_evaluator_on_divergence,
        extra=extra_evaluator(application), consensus=consensus,
        consensus_scores={s.criterion_id: s for s in consensus.scores} if consensus else {},
    )
