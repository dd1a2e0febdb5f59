"""Deadlines: a call's review deadline and each voucher's final-report deadline.

The report is due a call's ``report_due_days`` after the voucher's activity ends (the
trip's last day, the service's delivery date, at most the call's last day of activities;
else the call's implementation end, else the award day); the day is fixed at the award,
so changing the call's number of days later moves no deadline already set.

What "overdue" means is defined here once, as SQL conditions (the applications table's
filters and the dashboard's counts, through services/needs.py; the reminders of
services/reminders.py) and as their Python twins for rows already loaded (the pages):

- a review is overdue when its call's review deadline has passed (in the programme's
  time zone, vouchers/clock.py), the evaluator's assignment stands (no conflict
  declared), the application is under review and the evaluator has not submitted a
  review of its current version;
- a final report is overdue when its voucher's report_due_on has passed and the voucher
  is still awarded or reporting (the report not submitted).

A deadline is the last day allowed: due on the 3rd is overdue from the 4th.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, exists, not_, select
from sqlalchemy.sql.elements import ColumnElement

from workflows.lifecycle import AWARDED, REPORTING, UNDER_REVIEW

from ..clock import local_date, today
from ..extensions import db
from ..formatting import LocaleText
from ..models import Application, Assignment, Call, Programme, Review
from . import call_money, call_specs
from .wording import full_day

# A voucher's report is still to come in these states: the reminders and the overdue
# marks concern only them.
REPORT_OPEN_STATES = (AWARDED, REPORTING)
MIN_REPORT_DAYS, MAX_REPORT_DAYS = 1, 365
DEFAULT_REPORT_DAYS = 60


# --- setting the deadlines -------------------------------------------------------------


def activity_end(application: Application, awarded_on: date) -> date:
    """The day the voucher's activity ends, as far as the application says.

    A day the applicant typed counts up to the call's last day of activities (its
    implementation end, else the programme's end): a date past it was accepted only by
    an eligibility exception or is a typo ("2207"), and must neither overflow the
    deadline's arithmetic (9999-12-31) nor push the report beyond every reminder.
    """
    call = application.call
    details = application.details or {}
    for key in ("end_date", "delivery_date"):
        value = details.get(key)
        if value:
            try:
                return min(date.fromisoformat(str(value)), call.last_activity_day)
            except ValueError:
                continue
    return call.implementation_ends_on or awarded_on


def report_due_on(application: Application, awarded_on: date) -> date:
    """The final report's deadline, set when the voucher is awarded.

    Migration 0008 computes the same for vouchers awarded before it: change both.
    """
    end = max(activity_end(application, awarded_on), awarded_on)
    try:
        return end + timedelta(days=application.call.report_due_days)
    except OverflowError:  # only a programme that "ends" in year 9999 gets here
        return date.max


KEEP = call_specs.KEEP


@dataclass
class CallSpec(call_money.CallSpec):
    """A call's set-up with its deadlines (services/call_setup.py saves them).

    A caller that predates them (a spec without these fields, or with KEEP) leaves them
    as they are: a new call's defaults, or the call's present deadlines.
    """

    # The last day evaluators' reviews are due; None: no review deadline.
    review_deadline: date | None = KEEP
    # Days after a voucher's activity ends that its final report is due.
    report_due_days: int = KEEP


def deadline_problems(spec, programme: Programme | None = None) -> list[str]:
    """The deadlines' problems, one sentence each (the form says the same by the field)."""
    problems = []
    deadline = getattr(spec, "review_deadline", KEEP)
    if deadline is not KEEP and deadline is not None:
        if not isinstance(deadline, date):
            problems.append(_("The review deadline must be a date, or left empty for none."))
        elif spec.opens_at is not None and deadline < local_date(spec.opens_at):
            problems.append(_("Reviews cannot be due (%(day)s) before the call opens "
                              "(%(opens)s).", day=day(deadline),
                              opens=day(local_date(spec.opens_at))))
        elif programme is not None and deadline > programme.ends_on:
            problems.append(_("Reviews cannot be due (%(day)s) after the programme ends "
                              "(%(ends)s).", day=day(deadline), ends=day(programme.ends_on)))
    days = getattr(spec, "report_due_days", KEEP)
    if days is not KEEP and (isinstance(days, bool) or not isinstance(days, int)
                             or not MIN_REPORT_DAYS <= days <= MAX_REPORT_DAYS):
        problems.append(_("The final report must be due %(least)s to %(most)s days after "
                          "the activity ends.", least=MIN_REPORT_DAYS, most=MAX_REPORT_DAYS))
    return problems


def set_deadlines(call: Call, spec) -> None:
    """Write the spec's deadlines on ``call``; vouchers already awarded keep their own."""
    call_specs.write_given(call, spec, ("review_deadline", "report_due_days"))


def day(value: date) -> LocaleText:
    """A deadline's day, "4 December 2026", written when it is shown: in the page's
    language, or in a reminder's recipient's (the reminders make their context before
    outbox.render forces the recipient's language)."""
    return LocaleText(full_day, value)


# --- what is overdue, in SQL -------------------------------------------------------------


def _reviewed() -> ColumnElement[bool]:
    """The assignment's evaluator reviewed the application's current version."""
    return (exists().where(Review.application_id == Assignment.application_id,
                           Review.evaluator_id == Assignment.evaluator_id,
                           Review.version == Application.submission_number)
            .correlate(Assignment, Application))


def review_pending() -> ColumnElement[bool]:
    """On Assignment joined to its Application: a standing assignment whose review of
    the current version is still to come, the application under review."""
    return and_(Assignment.conflict_declared_at.is_(None), Application.state == UNDER_REVIEW,
                not_(_reviewed()))


def review_overdue(on: date | None = None) -> ColumnElement[bool]:
    """On Application: at least one of its evaluators' reviews is overdue on ``on``."""
    on = on or today()
    late_calls = select(Call.id).where(Call.review_deadline < on)
    pending = (exists().where(Assignment.application_id == Application.id,
                              Assignment.conflict_declared_at.is_(None), not_(_reviewed()))
               .correlate(Application))
    return and_(Application.state == UNDER_REVIEW, Application.call_id.in_(late_calls),
                pending)


def report_overdue(on: date | None = None) -> ColumnElement[bool]:
    """On Application: its final report is overdue on ``on``."""
    return and_(Application.state.in_(REPORT_OPEN_STATES),
                Application.report_due_on < (on or today()))


def reviews_overdue_among(ids: list[int], on: date | None = None) -> set[int]:
    """Which of the applications ``ids`` have a review overdue: one query."""
    if not ids:
        return set()
    return set(db.session.scalars(
        select(Application.id).where(Application.id.in_(ids), review_overdue(on))))


# --- the same, for rows already loaded -----------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """A deadline as a page shows it (templates/_deadline.html)."""

    due_on: date
    on: date  # the day it is judged on: today in the programme's time zone

    @property
    def overdue(self) -> bool:
        return self.due_on < self.on

    @property
    def shown(self) -> str:
        return day(self.due_on)

    @property
    def days_left(self) -> int:
        """Days until the deadline: 0 on the day itself, negative once it passed."""
        return (self.due_on - self.on).days


def report_deadline(application: Application, on: date | None = None) -> Deadline | None:
    """The final report's deadline while the report is still to come; else None."""
    if application.report_due_on is None or application.state not in REPORT_OPEN_STATES:
        return None
    return Deadline(application.report_due_on, on or today())


def review_deadline(call: Call, pending: bool, on: date | None = None) -> Deadline | None:
    """The call's review deadline for an evaluator whose review is ``pending`` (a standing
    assignment, under review, not reviewed yet: review_pending's twin); else None."""
    if call.review_deadline is None or not pending:
        return None
    return Deadline(call.review_deadline, on or today())


def overdue_marks(applications: list[Application], on: date | None = None
                  ) -> dict[int, tuple[str, ...]]:
    """{application id: what is overdue ("review", "report")} for rows already loaded (a
    page of the applications table): at most one query, for the reviews, and none
    unless a row is under review in a call whose review deadline has passed."""
    on = on or today()
    late_calls = {a.call_id for a in applications if a.state == UNDER_REVIEW
                  and a.call.review_deadline is not None and a.call.review_deadline < on}
    late_reviews = reviews_overdue_among(
        [a.id for a in applications if a.call_id in late_calls], on) if late_calls else set()
    marks: dict[int, tuple[str, ...]] = {}
    for a in applications:
        report = report_deadline(a, on)
        found = (("review",) if a.id in late_reviews else ()) + (
            ("report",) if report is not None and report.overdue else ())
        if found:
            marks[a.id] = found
    return marks


def init_app(app) -> None:
    """The pages' helpers (templates/_deadline.html uses them)."""
    app.add_template_global(report_deadline, "report_deadline")
    app.add_template_global(review_deadline, "review_deadline")
