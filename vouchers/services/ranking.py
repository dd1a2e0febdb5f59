"""The ranked list of one call and voucher type, and an application's place in it.

An application is ranked once it can be decided on: under review with at least one review
of its current version, or waitlisted. It ranks by its score (the consensus score where
one is recorded, else the evaluators' mean), ties broken by TIE_BREAK, which the ranking
page shows word for word. The order is read in three queries whatever the size of the
list; ``ranked`` adds each entry's threshold and eligibility results for the funding line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from workflows.lifecycle import UNDER_REVIEW, WAITLISTED

from ..clock import local_date
from ..extensions import db
from ..i18n import N_
from ..models import (
    Application,
    Call,
    CallVoucherType,
)
from ..models.base import MAX_ID, utcnow
from . import deadlines, eligibility, scoring, undertaking

# English (the CLI prints it); a page shows it translated: gettext(TIE_BREAK).
TIE_BREAK = N_("higher score on the first criterion, then the earlier submission, then the "
               "lower reference number")
RANKED_STATES = (UNDER_REVIEW, WAITLISTED)
_NUMBER = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class Ranked:
    """One application in rank order, with what it was ordered by."""

    rank: int
    application: Application
    # The consensus score where there is one, else the mean of the current reviews.
    score: Decimal | None
    consensus: bool
    # The score on the first criterion (consensus, else the reviews' mean; N/A left out).
    first_criterion: Decimal | None
    # The application's state when it was ranked.
    state: str = ""


@dataclass(frozen=True)
class Entry(Ranked):
    threshold_problems: tuple[str, ...] = ()
    # Every eligibility rule that fails without a manager's exception.
    blocking: tuple[eligibility.RuleResult, ...] = ()
    # Limits a manager accepted an exception to (undertaking.OVERRIDABLE codes).
    excused: frozenset[str] = frozenset()
    # What is overdue ("review"; services/deadlines.overdue_marks), for the page's marks.
    overdue: tuple[str, ...] = ()

    @property
    def static_blocking(self) -> tuple[eligibility.RuleResult, ...]:
        """The failing rules that no award elsewhere changes: the funding line skips these.
        (Rules on the undertaking's other awards are re-checked as the line is walked.)"""
        return tuple(r for r in self.blocking if not r.depends_on_awards)

    @property
    def above_threshold(self) -> bool:
        return not self.threshold_problems


@dataclass(frozen=True)
class Position:
    """Where one application stands: its rank, and its place on the reserve list."""

    cvt: CallVoucherType
    rank: int
    ranked: int
    # 1-based among the waitlisted, in rank order; None unless waitlisted.
    reserve: int | None
    reserve_size: int


def call_voucher_type(call_id: int, voucher_type: str) -> CallVoucherType | None:
    """The call's voucher type ``voucher_type``, or None (no such call, or not offered)."""
    if not 0 < call_id <= MAX_ID:
        return None
    call = db.session.get(Call, call_id)
    return call.voucher_type(voucher_type) if call is not None else None


def in_ranking(cvt_id: int):
    """The condition that puts an application of the type in its ranking."""
    a = Application
    return and_(a.call_voucher_type_id == cvt_id, or_(
        and_(a.state == UNDER_REVIEW, a.review_count > 0), a.state == WAITLISTED))


def order(cvt: CallVoucherType) -> list[Ranked]:
    """The ranking of ``cvt``, read fresh from the database (rows loaded earlier in the
    session are overwritten, so a decision taken under the write lock reads the latest)."""
    return _order(cvt)[0]


def _order(cvt: CallVoucherType
           ) -> tuple[list[Ranked], dict[int, list[scoring.CriterionScore]]]:
    """The ranking, and each ranked application's scores per criterion it was ordered by."""
    applications = list(db.session.scalars(
        select(Application).where(in_ranking(cvt.id))
        .options(joinedload(Application.organisation))
        .execution_options(populate_existing=True)
    ))
    criteria = scoring.criterion_scores_of(cvt, [a.id for a in applications])
    # The first criterion's score as the application's page shows it (scoring decides).
    first = {app_id: scores[0].score for app_id, scores in criteria.items() if scores}
    keyed = sorted(applications, key=lambda a: _key(a, first.get(a.id)))
    return [Ranked(rank=i, application=a, score=scoring.ranking_score(a),
                   consensus=a.consensus_score is not None, first_criterion=first.get(a.id),
                   state=a.state)
            for i, a in enumerate(keyed, start=1)], criteria


def _key(application: Application, first: Decimal | None):
    score = scoring.ranking_score(application)
    submitted = application.submitted_at
    return (score is None, -(score or 0), first is None, -(first or 0),
            submitted is None, submitted.timestamp() if submitted else 0,
            _reference_number(application.reference), application.reference)


def _reference_number(reference: str) -> int:
    match = _NUMBER.search(reference)
    return int(match.group(1)) if match else 0


def ranked(cvt: CallVoucherType, now: datetime | None = None) -> list[Entry]:
    """The ranking with each entry's threshold problems and blocking eligibility rules."""
    now = now or utcnow()
    ranking, criteria = _order(cvt)
    problems = scoring.threshold_problems_of(cvt, [r.application.id for r in ranking],
                                             criteria)
    # One query at most (none unless the call's review deadline has passed).
    overdue = deadlines.overdue_marks([r.application for r in ranking], local_date(now))
    entries = []
    for r in ranking:
        results = eligibility.evaluate(r.application, now)
        entries.append(Entry(
            rank=r.rank, application=r.application, score=r.score, consensus=r.consensus,
            first_criterion=r.first_criterion, state=r.state,
            threshold_problems=tuple(problems.get(r.application.id, ())),
            blocking=tuple(x for x in results if x.blocks),
            excused=frozenset(x.code for x in results if x.override is not None)
            & undertaking.OVERRIDABLE, overdue=overdue.get(r.application.id, ())))
    return entries


def position_of(application: Application) -> Position | None:
    """Where the application stands in its ranking and, if waitlisted, on the reserve list
    (None while it is not ranked)."""
    if application.state not in RANKED_STATES:
        return None
    cvt = application.call_voucher_type
    ranking = order(cvt)
    mine = next((r for r in ranking if r.application.id == application.id), None)
    if mine is None:
        return None
    waitlisted = [r.application.id for r in ranking if r.application.state == WAITLISTED]
    reserve = (waitlisted.index(application.id) + 1
               if application.id in waitlisted else None)
    return Position(cvt=cvt, rank=mine.rank, ranked=len(ranking), reserve=reserve,
                    reserve_size=len(waitlisted))
