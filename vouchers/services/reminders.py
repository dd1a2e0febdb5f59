"""Reminders of deadlines: each goes once per deadline, however often this runs.

``send_reminders(now)`` queues (services/outbox.py), for the deadlines of
services/deadlines.py:

- ``review_due`` to each evaluator whose review is still to come (a standing assignment,
  the application under review, no review of its current version): REVIEW_REMINDER_DAYS
  (default 3) days before the call's review deadline, and once more when it has passed;
- ``report_due`` to the applicant of each voucher whose final report is still to come
  (awarded or reporting): REPORT_REMINDER_DAYS (default 14) days before its
  report_due_on, and once more when it has passed.

Each reminder carries a dedupe key naming what it is about and the deadline's day
(``review_due:<assignment id>:<deadline>:soon`` or ``:overdue``; ``report_due:<application
id>:<day>:soon|overdue``), so it is queued once; a deadline moved to another day is a new
deadline and is reminded of again. A reminder first due once the deadline has passed goes
out only as the overdue one. Disabled accounts get none (outbox.queue).

Safe from cron every few minutes, and two runs at once send each reminder once: the
OutboxMessage's unique dedupe key refuses a twin, and outbox.queue adds each row in its
own savepoint, so the run that loses the race skips the clash and goes on. Candidates are
read in a fixed order (reviews, then reports, by id), so two runs wait on each other's
rows in the same order and never deadlock. Like every service: flushes, never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..clock import local_date
from ..extensions import db
from ..models import Application, Assignment, Call, OutboxMessage, User
from ..models.base import utcnow
from . import outbox
from .deadlines import REPORT_OPEN_STATES, day, review_pending
from .transaction import atomic

DEFAULT_REVIEW_DAYS = 3
DEFAULT_REPORT_DAYS = 14
SOON, OVERDUE = "soon", "overdue"
# Keys looked up per query (an IN list) when leaving out what was already queued.
_CHUNK = 500


@dataclass(frozen=True)
class ReminderResult:
    reviews: int = 0
    reports: int = 0

    @property
    def total(self) -> int:
        return self.reviews + self.reports


def _days(name: str, default: int) -> int:
    value = current_app.config.get(name, default)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def review_key(assignment_id: int, due_on: date, which: str) -> str:
    return f"review_due:{assignment_id}:{due_on.isoformat()}:{which}"


def report_key(application_id: int, due_on: date, which: str) -> str:
    return f"report_due:{application_id}:{due_on.isoformat()}:{which}"


def _which(due_on: date, on: date) -> str:
    return OVERDUE if due_on < on else SOON


def _already_queued(keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        found.update(db.session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_(keys[start:start + _CHUNK]))))
    return found


def _context(due_on: date, on: date, application: Application, **more) -> dict:
    return {"due_on": due_on, "due_text": day(due_on), "overdue": due_on < on,
            "days_left": (due_on - on).days, "application": application, **more}


def _review_reminders(on: date, now: datetime) -> int:
    """Reviews due within REVIEW_REMINDER_DAYS, or overdue, not reminded of yet."""
    horizon = on + timedelta(days=_days("REVIEW_REMINDER_DAYS", DEFAULT_REVIEW_DAYS))
    rows = db.session.execute(
        select(Assignment, Call.review_deadline)
        .join(Application, Application.id == Assignment.application_id)
        .join(Call, Call.id == Application.call_id)
        .join(User, User.id == Assignment.evaluator_id)
        .where(review_pending(), Call.review_deadline.is_not(None),
               Call.review_deadline <= horizon, User.enabled.is_(True))
        .options(joinedload(Assignment.application).joinedload(Application.call),
                 joinedload(Assignment.evaluator))
        .order_by(Assignment.id)
    ).all()
    wanted = [(a, due, review_key(a.id, due, _which(due, on))) for a, due in rows]
    done = _already_queued([key for _, _, key in wanted])
    queued = 0
    for assignment, due, key in wanted:
        if key in done:
            continue
        application = assignment.application
        if outbox.queue("review_due", to=assignment.evaluator, application=application,
                        context=_context(due, on, application, call=application.call,
                                         confirmed=assignment.no_conflict_confirmed_at
                                         is not None),
                        dedupe_key=key, now=now) is not None:
            queued += 1
    return queued


def _report_reminders(on: date, now: datetime) -> int:
    """Final reports due within REPORT_REMINDER_DAYS, or overdue, not reminded of yet."""
    horizon = on + timedelta(days=_days("REPORT_REMINDER_DAYS", DEFAULT_REPORT_DAYS))
    applications = list(db.session.scalars(
        select(Application)
        .join(User, User.id == Application.applicant_id)
        .where(Application.state.in_(REPORT_OPEN_STATES),
               Application.report_due_on.is_not(None), Application.report_due_on <= horizon,
               User.enabled.is_(True))
        .options(joinedload(Application.applicant), joinedload(Application.call))
        .order_by(Application.id)
    ))
    wanted = [(a, report_key(a.id, a.report_due_on, _which(a.report_due_on, on)))
              for a in applications]
    done = _already_queued([key for _, key in wanted])
    queued = 0
    for application, key in wanted:
        if key in done:
            continue
        if outbox.queue("report_due", to=application.applicant, application=application,
                        context=_context(application.report_due_on, on, application),
                        dedupe_key=key, now=now) is not None:
            queued += 1
    return queued


def send_reminders(now: datetime | None = None) -> ReminderResult:
    """Queue every reminder due at ``now`` that was not queued before; how many of each.

    One atomic block: on SQLite the run takes the write lock before it reads what was
    queued, so a concurrent run waits and then sees this one's reminders.
    """
    now = now or utcnow()
    on = local_date(now)
    with atomic():
        reviews = _review_reminders(on, now)
        reports = _report_reminders(on, now)
    return ReminderResult(reviews=reviews, reports=reports)
