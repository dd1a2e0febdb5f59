"""Automatic evaluator assignment: give every application of a call its N evaluators.

Set-based: three reads (the applications short of evaluators, the evaluators with their
load, the pairs that already exist), a plan made in memory, then a few bulk writes. The
cost grows with the number of assignments made, not with applications x evaluators
queries. Who may evaluate an application is policy.may_be_assigned, here as for a single
assignment; submitted applications move under review through transitions.fire_many, so
the lifecycle's guards and audit trail apply as for any other state change.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update

from workflows import lifecycle

from .. import policy
from ..extensions import db
from ..models import Application, Assignment, AuditRecord, Call, User
from ..models.base import utcnow
from . import notifications
from .errors import ConcurrentChange, InvalidInput
from .reviews import ASSIGNED_TWICE, REVIEWABLE_STATES
from .scoring import DIVERGENCE
from .transaction import atomic
from .transitions import chunks, fire_many

MAX_PER_APPLICATION = 10


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
    application: Application
    # Read once: the writes below expire the row, and reading it again would cost a query.
    id: int
    reference: str
    state: str
    missing: int
    standing: int


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    # Standing (not conflicted) assignments in the application's call.
    load: int


def _evaluators_with_load(call_id: int, *where) -> list[tuple[User, int]]:
    """Active evaluators with their standing assignments in the call.

    Only the pool policy.may_be_assigned chooses from, narrowed in SQL so that disabled
    accounts are not read at all; the policy still decides for each application.
    """
    a = Application
    load = (
        select(Assignment.evaluator_id, func.count().label("n"))
        .join(a, a.id == Assignment.application_id)
        .where(a.call_id == call_id, Assignment.conflict_declared_at.is_(None))
        .group_by(Assignment.evaluator_id)
        .subquery()
    )
    return db.session.execute(
        select(User, func.coalesce(load.c.n, 0))
        .outerjoin(load, load.c.evaluator_id == User.id)
        .where(User.role == lifecycle.EVALUATOR, User.enabled.is_(True), *where)
        .order_by(User.name, User.id)
    ).all()


def eligible_evaluators(application: Application) -> list[Candidate]:
    """Who may still be assigned to ``application``, with their load in its call.

    policy.may_be_assigned is the rule (an enabled evaluator, not of the applicant's
    organisation); this leaves out those already assigned (with or without a conflict).
    """
    assigned = select(Assignment.evaluator_id).where(
        Assignment.application_id == application.id)
    return [Candidate(user.id, user.name, n)
            for user, n in _evaluators_with_load(application.call_id,
                                                 User.id.not_in(assigned))
            if policy.may_be_assigned(user, application) is None]


def auto_assign(call: Call, per_application: int, by: User) -> AutoAssignResult:
    """Assign evaluators so each reviewable application of ``call`` has ``per_application``.

    An application counts as short of evaluators for every place it lacks: a new one
    gets N, one whose evaluator declared a conflict gets a replacement. Evaluators with
    the fewest standing assignments in this call go first (ties: lowest id), never one
    who declared a conflict on (or is already assigned to) the application, nor one
    policy.may_be_assigned refuses. Submitted applications move under review.

    Reading, planning and writing are one atomic block: the plan is made on what is
    committed once this writer holds the write lock (SQLite), and a concurrent change
    refuses the whole run (PostgreSQL).
    """
    clash = _("Another manager assigned evaluators at the same moment; nothing was "
              "assigned. Try again.")
    with atomic(clashes={ASSIGNED_TWICE: clash}):
        policy.ensure(policy.can_run_programme(by),
                      "Only a lead partner's manager assigns a whole call's evaluators.")
        if not 1 <= per_application <= MAX_PER_APPLICATION:
            raise InvalidInput(_("Ask for between 1 and %(most)s evaluators per application.",
                                 most=MAX_PER_APPLICATION))
        needs = _needs(call, per_application)
        planned = _plan(call, needs) if needs else []
        _write(planned, needs, by)
    return AutoAssignResult(
        made=len(planned), applications=len({app_id for app_id, _uid in planned}),
        short=[(n.reference, n.standing) for n in needs if n.standing < per_application],
    )


def _needs(call: Call, per_application: int) -> list[_Need]:
    """The call's reviewable applications with fewer than ``per_application`` evaluators."""
    a = Application
    standing = (
        select(Assignment.application_id, func.count().label("n"))
        .join(a, a.id == Assignment.application_id)
        .where(a.call_id == call.id, Assignment.conflict_declared_at.is_(None))
        .group_by(Assignment.application_id)
        .subquery()
    )
    standing_n = func.coalesce(standing.c.n, 0)
    rows = db.session.execute(
        select(a, standing_n)
        .outerjoin(standing, standing.c.application_id == a.id)
        .where(a.call_id == call.id, a.state.in_(REVIEWABLE_STATES),
               standing_n < per_application)
        .order_by(a.submitted_at, a.id)
    )
    return [_Need(application=app, id=app.id, reference=app.reference, state=app.state,
                  missing=per_application - n, standing=n) for app, n in rows]


def _plan(call: Call, needs: list[_Need]) -> list[tuple[int, int]]:
    """(application id, evaluator id) pairs, the least loaded evaluators first."""
    pool = _evaluators_with_load(call.id)
    evaluators = {user.id: user for user, _ in pool}
    heap = [(load, user.id) for user, load in pool]
    heapq.heapify(heap)
    # Any existing pair, conflicted or not, rules the evaluator out for that application.
    a = Application
    taken: set[tuple[int, int]] = set(db.session.execute(
        select(Assignment.application_id, Assignment.evaluator_id)
        .join(a, a.id == Assignment.application_id)
        .where(a.call_id == call.id, a.state.in_(REVIEWABLE_STATES))
    ))
    planned: list[tuple[int, int]] = []
    for need in needs:
        chosen, skipped = [], []
        while heap and len(chosen) < need.missing:
            load, uid = heapq.heappop(heap)
            if ((need.id, uid) in taken
                    or policy.may_be_assigned(evaluators[uid], need.application) is not None):
                skipped.append((load, uid))
            else:
                chosen.append((load, uid))
        for load, uid in chosen:
            planned.append((need.id, uid))
            heapq.heappush(heap, (load + 1, uid))
        for item in skipped:
            heapq.heappush(heap, item)
        need.standing += len(chosen)
    return planned


def _write(planned: list[tuple[int, int]], needs: list[_Need], by: User) -> None:
    """Insert the planned assignments and move submitted applications under review."""
    if not planned:
        return
    touched = {app_id for app_id, _uid in planned}
    now = utcnow()
    starting = [n.application for n in needs
                if n.id in touched and n.state == lifecycle.SUBMITTED]
    fire_many(starting, "start_review", by,
                          comment="Evaluators assigned automatically.", now=now)
    # Bumping the version of those already under review makes a concurrent decision on
    # them (which loaded the old version) fail instead of landing next to these
    # assignments.
    t = Application.__table__
    reviewing = [n for n in needs if n.id in touched and n.state != lifecycle.SUBMITTED]
    bumped = 0
    for chunk in chunks([n.id for n in reviewing]):
        bumped += len(db.session.scalars(
            update(t).where(t.c.id.in_(chunk), t.c.state == lifecycle.UNDER_REVIEW)
            .values(version=t.c.version + 1).returning(t.c.id)
        ).all())
    for need in reviewing:
        db.session.expire(need.application)
    if bumped != len(reviewing):
        raise ConcurrentChange(_("Some applications changed state while evaluators were "
                                 "being assigned; nothing was assigned. Try again."))
    db.session.execute(insert(Assignment), [
        {"application_id": app_id, "evaluator_id": uid, "assigned_by_id": by.id,
         "assigned_at": now, "conflict_reason": "", "reason": "auto"}
        for app_id, uid in planned
    ])
    notifications.assigned(planned)


EXTRA_COMMENT = "Extra evaluator: divergent scores"


def assign_extra(application: Application) -> Assignment | None:
    """Ask one more evaluator, chosen by the system; None when nobody can be asked.

    Balanced as auto_assign: the eligible evaluator (policy.may_be_assigned, not yet
    assigned, so never one who declared a conflict on it) with the fewest standing
    assignments in the call, ties by lowest id. Runs inside the caller's atomic() (a
    review being submitted), under the same write lock.
    """
    with atomic(clashes={ASSIGNED_TWICE: _("The extra evaluator was assigned at the same "
                                           "moment by someone else; reload the page.")}):
        if application.state not in REVIEWABLE_STATES:
            return None
        candidates = eligible_evaluators(application)
        if not candidates:
            return None
        chosen = min(candidates, key=lambda c: (c.load, c.id))
        now = utcnow()
        extra = Assignment(application_id=application.id, evaluator_id=chosen.id,
                           assigned_by_id=None, assigned_at=now, conflict_reason="",
                           reason=DIVERGENCE)
        db.session.add(extra)
        db.session.add(AuditRecord(
            application_id=application.id, from_state=application.state,
            to_state=application.state, trigger="assign", actor_id=None, at=now,
            comment=EXTRA_COMMENT,
        ))
        notifications.assigned([(application.id, chosen.id)])
    return extra
