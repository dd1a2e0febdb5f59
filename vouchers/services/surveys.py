"""Follow-up surveys: what a voucher achieved some months after its last payment (issue 14).

A call lists its follow-up months (``Call.follow_up_months``, e.g. [6, 24]; set with the
call: services/call_follow_up.py). A voucher of
that call that is paid (state ``paid``) gets one survey per month count, due that many
calendar months after its last payment that was not reversed (a payment on 31 August
plus 6 months is due on 28 February, or the 29th). A voucher closed without any payment
received no money and is not surveyed.

``send_surveys(now)``, run by ``flask send-reminders`` (cron, and ``make run``'s loop):

- creates the surveys that came due (an INSERT ... ON CONFLICT DO NOTHING against the
  unique (application, months) pair, so two runs at once create each survey once, and
  only the run that created a survey mails it), and queues ``survey_due`` to each
  enabled applicant account of the voucher's company;
- queues ``survey_reminder`` once for a survey still unanswered SURVEY_REMINDER_DAYS
  (default 14) after it went out: a conditional UPDATE of ``reminded_at`` claims it.

The questions depend on what the voucher type is for (``ASKED``); the answers are given
once (``answer``), by the voucher's company's applicants (policy.can_answer_survey).
``roll_up`` is the one reading of the answers, per voucher type and follow-up, that the
call's dashboard and the workbook's Follow-up sheet show. Like every service: flushes,
never commits.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from exports.follow_up_sheet import FollowUpRow
from workflows.lifecycle import APPLICANT, PAID

from .. import policy, voucher_types
from ..clock import local_date
from ..extensions import db
from ..i18n import N_
from ..models import Application, Call, CallVoucherType, LedgerEntry, Payment, User
from ..models.base import utcnow
from ..models.ledger import REVERSAL
from ..models.surveys import FollowUpSurvey
from ..money import MAX_MONEY
from . import deadlines, outbox
from .errors import ConcurrentChange, InvalidInput
from .transaction import atomic
from .wording import eur, long_day, number

DEFAULT_REMINDER_DAYS = 14
MOST_JOBS = 100_000
MAX_COMMENT = 2000

# --- the questions ------------------------------------------------------------------------

JOBS, TURNOVER, MARKET, CERTIFICATION, INVESTMENT = (
    "jobs_created", "turnover_change", "market_entry", "certification",
    "follow_on_investment")
COUNT, MONEY, YES_NO = "count", "money", "yes_no"


@dataclass(frozen=True)
class Question:
    key: str  # the FollowUpSurvey column that holds the answer
    label: str
    kind: str
    description: str = ""


# English in the code, the API and the workbook; translated where a page or a mail asks.
QUESTIONS: dict[str, Question] = {q.key: q for q in (
    Question(JOBS, N_("Jobs created since the voucher was paid"), COUNT,
             N_("Full-time positions the company added, counted once each; 0 if none.")),
    Question(TURNOVER, N_("Change in yearly turnover since the voucher was paid (€)"), MONEY,
             N_("The last full year against the year before the voucher; negative if it "
                "fell, such as -5000.")),
    Question(MARKET, N_("Has the company entered a new market?"), YES_NO,
             N_("A new country, or a new kind of customer, for the product or service.")),
    Question(CERTIFICATION, N_("Has the product obtained a certification or approval?"),
             YES_NO, N_("CE marking, ISO, a notified body's or a regulator's approval.")),
    Question(INVESTMENT, N_("Investment raised since the voucher was paid (€)"), MONEY,
             N_("Equity, loans or grants for the work the voucher supported; 0 if none.")),
)}

# What each voucher type is for, and so what its survey asks: a trip to a partnering event
# opens markets and meets investors; a market study leads to market entry and sales; a
# product test leads to a certification and a product on the market; an impact voucher
# promised its indicators, so it is asked all of them.
ASKED: dict[str, tuple[str, ...]] = {
    "travel": (MARKET, INVESTMENT),
    "market_validation": (MARKET, TURNOVER, JOBS, INVESTMENT),
    "product_validation": (CERTIFICATION, MARKET, JOBS, INVESTMENT),
    "impact": (JOBS, TURNOVER, MARKET, CERTIFICATION, INVESTMENT),
}


def questions_of(voucher_type: str) -> tuple[Question, ...]:
    return tuple(QUESTIONS[key] for key in ASKED.get(voucher_type, ()))


# --- when a survey is due -------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months; the 31st becomes the last day of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_payments():
    """(application id, the day of its last payment not reversed), as a subquery."""
    reversed_ids = select(LedgerEntry.payment_id).where(LedgerEntry.kind == REVERSAL,
                                                        LedgerEntry.payment_id.is_not(None))
    return (select(Payment.application_id, func.max(Payment.paid_on).label("paid_on"))
            .where(Payment.id.not_in(reversed_ids))
            .group_by(Payment.application_id).subquery())


def _due_rows(on: date, now: datetime) -> list[dict]:
    """The surveys due by ``on`` that do not exist yet, as rows to insert."""
    calls = [(cid, months) for cid, months in db.session.execute(
        select(Call.id, Call.follow_up_months).order_by(Call.id)) if months]
    rows = []
    paid = last_payments()
    for call_id, months in calls:
        # A little slack: the 31st plus a month can come due before on - 1 month's day.
        latest = add_months(on, -min(months)) + timedelta(days=3)
        candidates = db.session.execute(
            select(Application.id, paid.c.paid_on)
            .join(paid, paid.c.application_id == Application.id)
            .where(Application.call_id == call_id, Application.state == PAID,
                   paid.c.paid_on <= latest)
            .order_by(Application.id)).all()
        if not candidates:
            continue
        existing = {(a_id, m) for a_id, m in db.session.execute(
            select(FollowUpSurvey.application_id, FollowUpSurvey.months)
            .join(Application, Application.id == FollowUpSurvey.application_id)
            .where(Application.call_id == call_id))}
        for application_id, paid_on in candidates:
            for m in months:
                due_on = add_months(paid_on, m)
                if due_on <= on and (application_id, m) not in existing:
                    rows.append({"application_id": application_id, "months": m,
                                 "due_on": due_on, "created_at": now, "comment": ""})
    return rows


def _insert_new(rows: list[dict]) -> list[int]:
    """Insert the rows no concurrent run inserted first; the ids of those inserted here."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (insert(FollowUpSurvey).values(rows)
                 .on_conflict_do_nothing(index_elements=["application_id", "months"])
                 .returning(FollowUpSurvey.id))
    return list(db.session.scalars(statement))


def recipients(survey: FollowUpSurvey) -> list[User]:
    """The enabled applicant accounts of the voucher's company (never a disabled one)."""
    return list(db.session.scalars(
        select(User).where(User.organisation_id == survey.application.organisation_id,
                           User.role == APPLICANT, User.enabled.is_(True),
                           User.anonymised_at.is_(None)).order_by(User.id)))


def _mail(kind: str, survey: FollowUpSurvey, now: datetime) -> int:
    application = survey.application
    context = {"survey": survey, "questions": questions_of(application.voucher_type),
               "due_text": deadlines.day(survey.due_on)}
    sent = 0
    for user in recipients(survey):
        if outbox.queue(kind, to=user, application=application, context=context,
                        dedupe_key=f"{kind}:{survey.id}:{user.id}", now=now) is not None:
            sent += 1
    return sent


def _reminder_days() -> int:
    value = current_app.config.get("SURVEY_REMINDER_DAYS", DEFAULT_REMINDER_DAYS)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_REMINDER_DAYS


def _surveys(ids: list[int]) -> list[FollowUpSurvey]:
    return list(db.session.scalars(
        select(FollowUpSurvey).where(FollowUpSurvey.id.in_(ids))
        .options(joinedload(FollowUpSurvey.application).joinedload(Application.call))
        .order_by(FollowUpSurvey.id))) if ids else []


@dataclass(frozen=True)
class SurveyRun:
    created: int = 0
    reminded: int = 0
    mails: int = 0


def send_surveys(now: datetime | None = None) -> SurveyRun:
    """Create the surveys due at ``now`` and mail them; remind of those left unanswered.

    Safe however often, and however concurrently, it runs: a survey is created once, and
    only the run that created (or claimed the reminder of) a survey mails about it.
    """
    now = now or utcnow()
    on = local_date(now)
    with atomic():
        created = _surveys(_insert_new(_due_rows(on, now)))
        mails = sum(_mail("survey_due", s, now) for s in created)
        claimed = list(db.session.scalars(
            update(FollowUpSurvey)
            .where(FollowUpSurvey.answered_at.is_(None), FollowUpSurvey.reminded_at.is_(None),
                   FollowUpSurvey.created_at <= now - timedelta(days=_reminder_days()))
            .values(reminded_at=now).returning(FollowUpSurvey.id)
            .execution_options(synchronize_session=False)))
        reminded = _surveys(claimed)
        mails += sum(_mail("survey_reminder", s, now) for s in reminded)
    return SurveyRun(created=len(created), reminded=len(reminded), mails=mails)


# --- answering ------------------------------------------------------------------------------


def open_surveys_of(user: Any) -> list[FollowUpSurvey]:
    """The surveys the user's company has still to answer, the oldest first."""
    if getattr(user, "organisation_id", None) is None:
        return []
    return list(db.session.scalars(
        select(FollowUpSurvey).join(Application)
        .where(Application.organisation_id == user.organisation_id,
               FollowUpSurvey.answered_at.is_(None))
        .options(joinedload(FollowUpSurvey.application))
        .order_by(FollowUpSurvey.due_on, FollowUpSurvey.id)))


def due_surveys_of_call(call_id: int) -> list[FollowUpSurvey]:
    """Every survey of a call's vouchers, in the order they were created."""
    return list(db.session.scalars(
        select(FollowUpSurvey).join(Application).where(Application.call_id == call_id)
        .options(joinedload(FollowUpSurvey.application)).order_by(FollowUpSurvey.id)))


def _checked(voucher_type: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers to the type's questions, checked; None for questions not asked."""
    values: dict[str, Any] = dict.fromkeys(QUESTIONS)
    for question in questions_of(voucher_type):
        value = answers.get(question.key)
        if value is None:
            raise InvalidInput(_("Answer “%(question)s”.", question=_(question.label)))
        if question.kind == COUNT and (isinstance(value, bool) or not isinstance(value, int)
                                       or not 0 <= value <= MOST_JOBS):
            raise InvalidInput(_("“%(question)s”: a whole number from 0 to %(most)s.",
                                 question=_(question.label), most=number(MOST_JOBS)))
        if question.kind == MONEY:
            if not isinstance(value, Decimal) or not value.is_finite() or abs(value) > MAX_MONEY:
                raise InvalidInput(_("“%(question)s”: give an amount in euros.",
                                     question=_(question.label)))
            if question.key == INVESTMENT and value < 0:
                raise InvalidInput(_("“%(question)s” cannot be negative.",
                                     question=_(question.label)))
        if question.kind == YES_NO and not isinstance(value, bool):
            raise InvalidInput(_("“%(question)s”: answer yes or no.",
                                 question=_(question.label)))
        values[question.key] = value
    return values


def answer(survey: FollowUpSurvey, user: User, answers: dict[str, Any], comment: str = "",
           now: datetime | None = None) -> None:
    """Record the company's answers, once: a second answer is refused with a message."""
    now = now or utcnow()
    with atomic():
        policy.ensure(policy.can_answer_survey(user, survey),
                      "Only the company's own applicants answer its surveys.")
        if survey.answered_at is not None:
            raise InvalidInput(_("This survey was answered on %(day)s; answers are given "
                                 "once and cannot be changed.",
                                 day=long_day(local_date(survey.answered_at))))
        comment = (comment or "").strip()
        if len(comment) > MAX_COMMENT:
            raise InvalidInput(_("Keep the comment under %(count)s characters.",
                                 count=number(MAX_COMMENT)))
        values = _checked(survey.application.voucher_type, answers)
        # Only the first of two answers sent at once is kept.
        done = db.session.execute(
            update(FollowUpSurvey)
            .where(FollowUpSurvey.id == survey.id, FollowUpSurvey.answered_at.is_(None))
            .values(answered_at=now, comment=comment, **values)
            .execution_options(synchronize_session=False))
        if done.rowcount != 1:
            raise ConcurrentChange(_("This survey was answered a moment ago; reload the page."))
    db.session.refresh(survey)


# --- the roll-up ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FollowUpFigures(FollowUpRow):
    """One voucher type's surveys of one follow-up (``months`` after payment): the
    workbook's row (exports/follow_up_sheet.py) with the type's code.

    The sums are of the answers given; a figure the type is not asked is None. Rounds are
    kept apart because the answers are cumulative (jobs created since payment): adding
    the 6-month and the 24-month answers would count the same jobs twice.
    """

    voucher_type: str


def _asked(voucher_type: str, key: str, value):
    return value if key in ASKED.get(voucher_type, ()) else None


def roll_up(executor, call_id: int, chosen: Iterable[str] = ()) -> list[FollowUpFigures]:
    """Per voucher type (in the call's order) and follow-up, the surveys and their answers.

    ``executor``: the request's session, or the workbook's snapshot connection. One query.
    """
    s, a, t = FollowUpSurvey, Application, CallVoucherType
    chosen = tuple(chosen)
    where = [a.call_id == call_id] + ([a.voucher_type.in_(chosen)] if chosen else [])
    rows = executor.execute(
        select(a.voucher_type, s.months, func.count(s.id), func.count(s.answered_at),
               func.sum(s.jobs_created), func.sum(s.turnover_change),
               func.sum(s.follow_on_investment),
               func.count(case((s.market_entry.is_(True), s.id))),
               func.count(case((s.certification.is_(True), s.id))),
               func.min(t.position))
        .join(a, a.id == s.application_id)
        .join(t, t.id == a.call_voucher_type_id)
        .where(*where)
        .group_by(a.voucher_type, s.months)
        .order_by(func.min(t.position), s.months))
    zero = Decimal("0.00")
    return [FollowUpFigures(
        voucher_type=vt, label=voucher_types.label(vt), months=months, sent=sent,
        answered=answered,
        jobs_created=_asked(vt, JOBS, int(jobs or 0)),
        turnover_change=_asked(vt, TURNOVER, turnover if turnover is not None else zero),
        follow_on_investment=_asked(vt, INVESTMENT,
                                    investment if investment is not None else zero),
        market_entries=_asked(vt, MARKET, markets),
        certifications=_asked(vt, CERTIFICATION, certified),
    ) for vt, months, sent, answered, jobs, turnover, investment, markets, certified, _
        in rows]


def describe_answer(question: Question, value) -> str:
    """An answer as the pages show it, in the reader's language."""
    if value is None:
        return "—"
    if question.kind == YES_NO:
        return _("Yes") if value else _("No")
    if question.kind == MONEY:
        return eur(value)
    return number(value)
