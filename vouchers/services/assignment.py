"""Automatic evaluator assignment: give every application of a call its N evaluators.

Set-based: three reads (the applications short of evaluators, the evaluators with their
load, the pairs that already exist), a plan made in memory, then a few bulk writes. The
cost grows with the number of assignments made, not with applications x evaluators
queries.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from workflows import lifecycle

from .. import policy
from ..extensions import db
from ..models import Application, Assignment, AuditRecord, Call, User
from ..models.base import utcnow
from .errors import ConcurrentChange, InvalidInput, NotAllowed, TransitionNotAllowed
from .reviews import REVIEWABLE_STATES
from .transaction import atomic

MAX_PER_APPLICATION = 10
# Bind parameters per statement stay well under SQLite's limit of 32,766.
_CHUNK = 5000


def wanted_per_application() -> int:
    """How many standing evaluators an application should have."""
    return int(current_app.config.get("EVALUATORS_PER_APPLICATION", 2))


@dataclass
class AutoAssignResult:
    made: int = 0
    applications: int = 0
    # (reference, standing evaluators after the run) of those still short of N.
    short: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class _Need:
    id: int
    reference: str
    organisation_id: int
    state: str
    missing: int
    standing: int


class _Subject:
    """The lifecycle's view of an application for start_review (no row binding needed)."""

    actor_role = lifecycle.MANAGER
    actor_is_owner = False

    def __init__(self):
        self.state = lifecycle.SUBMITTED


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    # Standing (not conflicted) assignments in the application's call.
    load: int


def eligible_evaluators(application: Application) -> list[Candidate]:
    """Who may still be assigned to ``application``, with their load in its call.

    policy.may_be_assigned is the rule (an enabled evaluator, not of the applicant's
    organisation); this applies it in SQL and leaves out those already assigned (with or
    without a conflict declared).
    """
    a = Application
    load = (
        select(Assignment.evaluator_id, func.count().label("n"))
        .join(a, a.id == Assignment.application_id)
        .where(a.call_id == application.call_id, Assignment.conflict_declared_at.is_(None))
        .group_by(Assignment.evaluator_id)
        .subquery()
    )
    assigned = select(Assignment.evaluator_id).where(
        Assignment.application_id == application.id)
    rows = db.session.execute(
        select(User, func.coalesce(load.c.n, 0))
        .outerjoin(load, load.c.evaluator_id == User.id)
        .where(User.role == lifecycle.EVALUATOR, User.enabled.is_(True),
               User.id.not_in(assigned))
        .order_by(User.name, User.id)
    ).all()
    return [Candidate(user.id, user.name, n) for user, n in rows
            if policy.may_be_assigned(user, application) is None]


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def auto_assign(call: Call, per_application: int, by: User) -> AutoAssignResult:
    """Assign evaluators so each reviewable application of ``call`` has ``per_application``.

    An application counts as short of evaluators for every place it lacks: a new one
    gets N, one whose evaluator declared a conflict gets a replacement. Evaluators with
    the fewest standing assignments in this call go first (ties: lowest id), never one
    who declared a conflict on (or is already assigned to) the application, nor one of
    the applicant's own organisation. Submitted applications move under review.
    """
    if by.role != lifecycle.MANAGER:
        raise NotAllowed("Only a manager assigns evaluators.")
    if not 1 <= per_application <= MAX_PER_APPLICATION:
        raise InvalidInput(f"Ask for between 1 and {MAX_PER_APPLICATION} evaluators per "
                           "application.")
    a = Application
    standing = (
        select(Assignment.application_id, func.count().label("n"))
        .join(a, a.id == Assignment.application_id)
        .where(a.call_id == call.id, Assignment.conflict_declared_at.is_(None))
        .group_by(Assignment.application_id)
        .subquery()
    )
    standing_n = func.coalesce(standing.c.n, 0)
    needs = [
        _Need(id=row.id, reference=row.reference, organisation_id=row.organisation_id,
              state=row.state, missing=per_application - row.n, standing=row.n)
        for row in db.session.execute(
            select(a.id, a.reference, a.organisation_id, a.state, standing_n.label("n"))
            .outerjoin(standing, standing.c.application_id == a.id)
            .where(a.call_id == call.id, a.state.in_(REVIEWABLE_STATES),
                   standing_n < per_application)
            .order_by(a.submitted_at, a.id)
        )
    ]
    result = AutoAssignResult()
    if not needs:
        return result

    load_in_call = (
        select(Assignment.evaluator_id, func.count().label("n"))
        .join(a, a.id == Assignment.application_id)
        .where(a.call_id == call.id, Assignment.conflict_declared_at.is_(None))
        .group_by(Assignment.evaluator_id)
        .subquery()
    )
    evaluators = db.session.execute(
        select(User.id, User.organisation_id, func.coalesce(load_in_call.c.n, 0))
        .outerjoin(load_in_call, load_in_call.c.evaluator_id == User.id)
        .where(User.role == lifecycle.EVALUATOR, User.enabled.is_(True))
    ).all()
    organisation_of = {uid: org for uid, org, _ in evaluators}
    # Any existing pair, conflicted or not, rules the evaluator out for that application.
    taken: set[tuple[int, int]] = {
        (app_id, uid) for app_id, uid in db.session.execute(
            select(Assignment.application_id, Assignment.evaluator_id)
            .join(a, a.id == Assignment.application_id)
            .where(a.call_id == call.id, a.state.in_(REVIEWABLE_STATES))
        )
    }

    heap = [(load, uid) for uid, _, load in evaluators]
    heapq.heapify(heap)
    planned: list[tuple[int, int]] = []
    for need in needs:
        chosen, skipped = [], []
        while heap and len(chosen) < need.missing:
            load, uid = heapq.heappop(heap)
            org = organisation_of[uid]
            if (need.id, uid) in taken or (org is not None and org == need.organisation_id):
                skipped.append((load, uid))
            else:
                chosen.append((load, uid))
        for load, uid in chosen:
            planned.append((need.id, uid))
            heapq.heappush(heap, (load + 1, uid))
        for item in skipped:
            heapq.heappush(heap, item)
        need.standing += len(chosen)
    _write(planned, needs, by)

    touched = {app_id for app_id, _ in planned}
    result.made = len(planned)
    result.applications = len(touched)
    result.short = [(n.reference, n.standing) for n in needs if n.standing < per_application]
    return result


def _write(planned: list[tuple[int, int]], needs: list[_Need], by: User) -> None:
    """Insert the planned assignments and move submitted applications under review."""
    if not planned:
        return
    # The lifecycle still decides whether a manager may start a review.
    try:
        lifecycle.fire(_Subject(), "start_review")
    except lifecycle.TransitionRefused as exc:
        raise TransitionNotAllowed(str(exc)) from exc
    touched = sorted({app_id for app_id, _ in planned})
    was_submitted = {n.id for n in needs if n.state == lifecycle.SUBMITTED}
    now = utcnow()
    t = Application.__table__
    try:
        with atomic():
            started: list[int] = []
            still_reviewable: set[int] = set()
            for chunk in _chunks([i for i in touched if i in was_submitted]):
                ids = list(db.session.scalars(
                    update(t).where(t.c.id.in_(chunk), t.c.state == lifecycle.SUBMITTED)
                    .values(state=lifecycle.UNDER_REVIEW, version=t.c.version + 1)
                    .returning(t.c.id)
                ))
                started.extend(ids)
            still_reviewable.update(started)
            # Bumping the version of the others makes a concurrent decision on them (which
            # loaded the old version) fail instead of landing next to these assignments.
            for chunk in _chunks([i for i in touched if i not in still_reviewable]):
                still_reviewable.update(db.session.scalars(
                    update(t).where(t.c.id.in_(chunk), t.c.state == lifecycle.UNDER_REVIEW)
                    .values(version=t.c.version + 1)
                    .returning(t.c.id)
                ))
            if len(still_reviewable) != len(touched):
                raise ConcurrentChange("Some applications changed state while evaluators were "
                                       "being assigned; nothing was assigned. Try again.")
            if started:
                db.session.execute(insert(AuditRecord), [
                    {"application_id": app_id, "from_state": lifecycle.SUBMITTED,
                     "to_state": lifecycle.UNDER_REVIEW, "trigger": "start_review",
                     "actor_id": by.id, "at": now, "comment": "Evaluators assigned automatically."}
                    for app_id in started
                ])
            db.session.execute(insert(Assignment), [
                {"application_id": app_id, "evaluator_id": uid, "assigned_by_id": by.id,
                 "assigned_at": now, "conflict_reason": ""}
                for app_id, uid in planned
            ])
    except ConcurrentChange as exc:
        if not isinstance(exc.__cause__, IntegrityError):
            raise
        # atomic() reports the unique (application, evaluator) index as a ConcurrentChange.
        raise ConcurrentChange("Another manager assigned evaluators at the same moment; "
                               "nothing was assigned. Try again.") from exc
    # The updates above bypassed the identity map: expire what this session holds of them
    # (found by identity key, since reading .id of an expired object would load it).
    for id_ in touched:
        obj = db.session.identity_map.get(db.session.identity_key(Application, id_))
        if obj is not None:
            db.session.expire(obj)

