"""The demo's applications, each taken along its path on a timeline of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import event, select

from ..clock import local_date
from ..extensions import db
from ..models import (
    Application,
    ApplicationMessage,
    Assignment,
    AuditRecord,
    BankDetailsChange,
    ChangeRecord,
    Consensus,
    CostLine,
    DeMinimisGrant,
    FinalReport,
    LedgerEntry,
    OutboxMessage,
    Payment,
    PaymentBatch,
    Review,
)
from ..services import payments, reporting, reviews, settlement, transitions
from .catalogue import BUYERS, EVENTS, MARKET_PROVIDERS
from .texts import SMES

# How many applications of each type end in each state; awarded-side counts stay within
# the quotas above (12 / 6 / 5 / 3).
PLAN = {
    "travel": {"paid": 2, "completed": 1, "report_submitted": 1, "reporting": 2, "awarded": 2,
               "cancelled": 1, "under_review": 2, "submitted": 2, "rejected": 1, "draft": 1,
               "withdrawn": 1},
    "market_validation": {"paid": 1, "reporting": 1, "awarded": 1, "report_submitted": 1,
                          "waitlisted": 1, "under_review": 2, "submitted": 1, "returned": 1,
                          "rejected": 1, "draft": 1},
    "product_validation": {"completed": 1, "awarded": 1, "reporting": 1, "under_review": 2,
                           "waitlisted": 1, "submitted": 1, "rejected": 1, "draft": 1,
                           "withdrawn": 1},
    "impact": {"paid": 1, "awarded": 1, "under_review": 1, "submitted": 1, "returned": 1,
               "draft": 1},
}

_AWARDED = ["submit", "review", "award"]
_REPORTED = _AWARDED + ["start_reporting", "save_report", "submit_report"]
# The path of triggers to each end state (after the draft is created).
PATHS = {
    "draft": [], "submitted": ["submit"], "withdrawn": ["submit", "withdraw"],
    "returned": ["submit", "return_for_changes"], "under_review": ["submit", "review"],
    "rejected": ["submit", "review", "reject"], "waitlisted": ["submit", "review", "waitlist"],
    "awarded": _AWARDED, "cancelled": _AWARDED + ["cancel"],
    "reporting": _AWARDED + ["start_reporting", "save_report"],
    "report_submitted": _REPORTED, "completed": _REPORTED + ["approve_report"],
    "paid": _REPORTED + ["approve_report", "pay"],
}
# Days from the step before (low, high). "review" is the assignment of two evaluators;
# their reviews follow it. A travel report starts a few days after the trip instead.
GAPS = {"submit": (3, 20), "withdraw": (2, 15), "return_for_changes": (3, 10),
        "review": (2, 9), "reviewed": (2, 7), "reject": (4, 12), "waitlist": (4, 12),
        "award": (4, 12), "cancel": (15, 40), "start_reporting": (35, 70),
        "save_report": (1, 8), "submit_report": (1, 6), "approve_report": (3, 12),
        "pay": (2, 9),
        # The money scenes (money.py): an advance after the award; a transfer the bank
        # returned, the company's new account, its confirmation and the payment again; the
        # SME paying back what its advance exceeded.
        "advance": (4, 12), "reverse": (3, 7), "new_bank_details": (1, 3),
        "confirm_bank_details": (1, 4), "repay": (1, 5), "recover": (12, 30)}
# What the programme's staff do happens on working days, in office hours (UTC).
STAFF_STEPS = {"review", "reviewed", "reject", "waitlist", "award", "cancel",
               "approve_report", "pay", "advance", "reverse", "confirm_bank_details", "repay",
               "recover"}
# (recommendation, lowest score, highest score) of the reviews leading to each decision.
VERDICTS = {"award": [("award", 3, 5), ("award", 4, 5)],
            "waitlist": [("award", 3, 4), ("waitlist", 3, 4)],
            "reject": [("reject", 1, 3), ("reject", 1, 3), ("waitlist", 2, 3)]}


@dataclass
class _Timeline:
    """When each step of one application happened: "create", each trigger, and
    ("reviewed", n) for the n-th review; the trip's first and last day for travel."""

    at: dict = field(default_factory=dict)
    trip: tuple[date, date] | None = None


class Dated:
    """While a step runs, what its services date by the clock is dated ``when`` instead.

    The rows are dated as they are flushed (before_flush), so an audit record is written
    once with its date, never updated: audit records are append-only. A value at or after
    ``since`` (the moment the demo began loading) came from the clock.
    """

    # Columns the database would fill with the time of the insert.
    DEFAULTED = {AuditRecord: "at", Assignment: "assigned_at", Review: "submitted_at",
                 Payment: "recorded_at", Consensus: "recorded_at", LedgerEntry: "at",
                 PaymentBatch: "created_at", BankDetailsChange: "requested_at",
                 DeMinimisGrant: "recorded_at", ChangeRecord: "at",
                 ApplicationMessage: "created_at", OutboxMessage: "created_at"}
    COLUMNS = {Application: ("created_at", "submitted_at", "awarded_at", "decided_at"),
               Assignment: ("conflict_declared_at", "no_conflict_confirmed_at"),
               FinalReport: ("submitted_at", "decided_at"), PaymentBatch: ("executed_at",),
               BankDetailsChange: ("decided_at",)}

    def __init__(self, since: datetime):
        self.since = since

    @contextmanager
    def __call__(self, when: datetime) -> Iterator[None]:
        def redate(session, _context, _instances):
            for row in session.new:
                column = self.DEFAULTED.get(type(row))
                if column and (getattr(row, column) is None or self._clock(row, column)):
                    setattr(row, column, when)
                # A ledger entry booked on the clock's day (services that book on today())
                # is booked on the step's day; an entry is written once, never updated.
                if isinstance(row, LedgerEntry) and row.booked_on >= local_date(self.since):
                    row.booked_on = local_date(when)
            for row in [*session.new, *session.dirty]:
                for column in self.COLUMNS.get(type(row), ()):
                    if self._clock(row, column):
                        setattr(row, column, when)

        session = db.session()
        event.listen(session, "before_flush", redate)
        try:
            yield
            session.flush()
        finally:
            event.remove(session, "before_flush", redate)

    def _clock(self, row, column: str) -> bool:
        value = getattr(row, column)
        return value is not None and value >= self.since


class Story:
    """Takes every demo application from its draft to its end state, on its timeline."""

    def __init__(self, rng, writer, now: datetime, opens: datetime, dated: Dated):
        self.rng, self.writer, self.now, self.opens, self.dated = rng, writer, now, opens, dated

    def tell(self, call, applicants, providers, manager, evaluators) -> int:
        self.manager, self.evaluators, self.providers = manager, evaluators, providers
        by_type = {t.voucher_type: t for t in call.voucher_types}
        sme_cycle = iter(applicants * 3)
        count = 0
        for vt, plan in PLAN.items():
            for end_state, n in plan.items():
                for _ in range(n):
                    applicant = next(sme_cycle)
                    timeline = self.timeline(PATHS[end_state], vt == "travel")
                    application = self.draft(by_type[vt], applicant, timeline)
                    self.follow(application, applicant, timeline, PATHS[end_state])
                    assert application.state == end_state, (application.state, end_state)
                    count += 1
        return count

    def follow(self, application, applicant, timeline: _Timeline, path: list[str],
               own: Callable | None = None, own_steps: frozenset = frozenset(),
               comments: list[str] | None = None) -> None:
        """Take ``application`` along ``path``, each step on its day; ``own`` takes the
        steps of ``own_steps`` and ``comments`` are the reviews (a scene's own words and
        figures)."""
        verdict = next((VERDICTS[s] for s in path if s in VERDICTS), None)
        for step in path:
            if step == "review":  # dated step by step inside
                self.review(application, timeline, verdict, comments)
                continue
            with self.dated(timeline.at[step]):
                if step in own_steps:
                    own(step, application, applicant, timeline)
                else:
                    self.step(step, application, applicant, timeline)

    def _when(self, day: date, staff: bool) -> datetime:
        hour = self.rng.randint(7, 15) if staff else self.rng.randint(6, 20)
        return datetime.combine(day, time(hour, self.rng.randrange(60)), UTC)

    def timeline(self, path: list[str], travel: bool,
                 ends_within: tuple[int, int] | None = None) -> _Timeline:
        """The days of ``path``, ending ``ends_within`` (low, high) days before today."""
        rng = self.rng
        decided = any(step in VERDICTS for step in path)
        # Any weekday to start from; the whole timeline is moved into place below.
        days: dict = {"create": date(2001, 1, 1) + timedelta(days=rng.randrange(7))}
        day, trip = days["create"], None

        def next_day(step, low: int, high: int) -> date:
            nonlocal day
            day += timedelta(days=rng.randint(low, high))
            while step in STAFF_STEPS and day.weekday() >= 5:
                day += timedelta(days=1)
            return day

        for step in path:
            if step == "start_reporting" and travel:
                first = days["award"] + timedelta(days=rng.randint(12, 40))
                trip = (first, first + timedelta(days=rng.randint(1, 3)))
                day = max(day, trip[1])
                days[step] = next_day("start_reporting", 2, 6)
            else:
                days[step] = next_day(step, *GAPS[step])
            if step == "review":
                for n in range(1, (2 if decided else rng.choice([0, 1, 1, 2])) + 1):
                    days[("reviewed", n)] = next_day("reviewed", *GAPS["reviewed"])
        # The story ends on a day of the last six weeks (a draft: of the last fortnight),
        # moved by whole weeks so that working days stay working days.
        low, high = ends_within or (1, 14 if not path else 42)
        ends = local_date(self.now) - timedelta(days=rng.randint(low, high))
        shift = timedelta(weeks=(ends - day).days // 7)
        while days["create"] + shift <= local_date(self.opens):
            shift += timedelta(weeks=1)
        assert day + shift < local_date(self.now), "a demo timeline longer than the call"
        timeline = _Timeline({step: self._when(d + shift, step in STAFF_STEPS or
                                               isinstance(step, tuple))
                              for step, d in days.items()})
        if trip:
            timeline.trip = (trip[0] + shift, trip[1] + shift)
        elif travel:  # not reported on yet: the trip is still to come
            first = local_date(self.now) + timedelta(days=rng.randint(14, 150))
            timeline.trip = (first, first + timedelta(days=rng.randint(1, 3)))
        return timeline

    def draft(self, cvt, applicant, timeline: _Timeline):
        rng, vt, org = self.rng, cvt.voucher_type, applicant.organisation
        company = org.legal_name.rsplit(" ", 1)[0]
        product = SMES[company][1]
        buyers, partner = BUYERS[org.sector]
        facts = {"product": product, "provider": "", "event": "", "destination": "",
                 "buyers": buyers, "partner": partner, "company": company}
        provider = None
        if vt == "travel":
            event, destination, _ = rng.choice([e for e in EVENTS if org.sector in e[2]])
            facts.update(event=event, destination=destination)
            first, last = timeline.trip
            details = {"event": event, "destination": destination,
                       "start_date": first.isoformat(), "end_date": last.isoformat()}
            _, summary = self.writer.plan(vt, **facts)
            title = f"{company} at {event.removeprefix('the ')}"
            nights = (last - first).days
            lines = [("Return flights, two people", Decimal(rng.randrange(300, 1200))),
                     (f"Hotel, {nights} night{'s' if nights > 1 else ''}",
                      Decimal(rng.randrange(150, 300) * nights)),
                     ("Partnering and exhibition fee", Decimal(rng.randrange(900, 2500)))]
        elif vt == "impact":
            goal, summary = self.writer.plan(vt, **facts)
            outcome, indicators = goal.split("|")
            details = {"outcome": outcome, "indicators": indicators}
            title = f"{outcome} for {product}"
            lines = [("Health-economic model", Decimal(rng.randrange(40000, 80000))),
                     ("Patient and clinician interviews", Decimal(rng.randrange(20000, 60000)))]
        else:
            market = vt == "market_validation"
            provider = rng.choice([p for p in self.providers if p.country != org.country
                                   and (p.name in MARKET_PROVIDERS) == market])
            facts["provider"] = provider.name
            service, summary = self.writer.plan(vt, **facts)
            details = {"service": service, "delivery_date": (local_date(timeline.at.get(
                "submit", timeline.at["create"])) + timedelta(days=120)).isoformat()}
            title = f"{service}: {product}"
            lines = [(service, Decimal(rng.randrange(30000, 90000))),
                     (f"{provider.name}: travel and reporting", Decimal(rng.randrange(2000, 8000)))]
        total = sum(amount for _, amount in lines)
        requested = min(cvt.max_amount, (total * cvt.funding_rate).quantize(Decimal("0.01")))
        application = transitions.create_draft(
            applicant, cvt, title=title[:1].upper() + title[1:], details=details,
            provider_id=provider.id if provider else None, summary=summary,
            requested_amount=requested, now=timeline.at["create"],
        )
        application.cost_lines = [CostLine(description=d, amount=a, position=i)
                                  for i, (d, a) in enumerate(lines)]
        db.session.flush()
        self.facts = facts
        return application

    def step(self, step: str, application, applicant, timeline: _Timeline) -> None:
        rng, writer, manager, at = self.rng, self.writer, self.manager, timeline.at[step]
        if step == "submit":
            transitions.submit(application, applicant, now=at)
        elif step == "withdraw":
            transitions.withdraw(application, applicant, writer.decision(step))
        elif step == "return_for_changes":
            transitions.return_for_changes(application, manager, writer.decision(step))
        elif step == "reject":
            transitions.reject(application, manager, writer.decision(step))
        elif step == "waitlist":
            transitions.waitlist(application, manager, writer.decision(step))
        elif step == "award":
            amount = application.requested_amount
            if rng.random() < 0.25:  # the panel trims some budgets
                amount = (amount * Decimal("0.9")).quantize(Decimal("100"))
            transitions.award(application, manager, amount, writer.decision(step), now=at)
        elif step == "cancel":
            transitions.cancel(application, manager, writer.decision(step), now=at)
        elif step == "start_reporting":
            reporting.start_reporting(application, applicant)
        elif step == "save_report":
            spent = sum(line.amount for line in application.cost_lines)
            reporting.save_final_report(
                application, applicant, actual_costs=spent - Decimal(rng.randrange(0, 500)),
                summary=writer.report(application.voucher_type, **self.facts))
        elif step == "submit_report":
            reporting.submit_final_report(application, applicant)
        elif step == "approve_report":
            reporting.approve_report(application, manager, writer.decision(step), now=at)
        elif step == "pay":
            invoiced = local_date(timeline.at["submit_report"]) - timedelta(days=rng.randint(1, 6))
            # What is left after any advance: the payable amount less what was paid.
            payments.record_payment(
                application, manager, settlement.final_due(application),
                paid_on=local_date(at), reference=f"PAY-{application.reference}",
                invoice_number=f"INV-{at.year}-{rng.randrange(100, 999)}", invoice_date=invoiced,
                now=at)
        else:  # pragma: no cover - a typo in PATHS
            raise ValueError(step)

    def review(self, application, timeline: _Timeline, verdict,
               comments: list[str] | None = None) -> None:
        """Two evaluators assigned; the reviews the timeline holds, in its order."""
        pair = self.rng.sample(self.evaluators, 2)
        with self.dated(timeline.at["review"]):
            for evaluator in pair:
                reviews.assign(application, evaluator, self.manager)
        criteria = application.call_voucher_type.criteria
        options = verdict or [(r, low, high) for pair_ in VERDICTS.values()
                              for r, low, high in pair_]
        for n, evaluator in enumerate(pair, 1):
            if ("reviewed", n) not in timeline.at:
                break
            recommendation, low, high = self.rng.choice(options)
            with self.dated(timeline.at[("reviewed", n)]):
                reviews.confirm_no_conflict(application, evaluator)
                reviews.submit_review(
                    application, evaluator, recommendation=recommendation,
                    scores={c.id: self.rng.randint(low, high) for c in criteria},
                    comment=comments[n - 1] if comments else self.writer.review(
                        application.voucher_type, recommendation, **self.facts))


def date_people(rng, users, now: datetime, opens: datetime) -> None:
    """Accounts created before their owners' first action; last logins at their last."""
    db.session.flush()
    acted: dict[int, list[datetime]] = {}
    for actor_id, at in db.session.execute(select(AuditRecord.actor_id, AuditRecord.at)):
        acted.setdefault(actor_id, []).append(at)
    for evaluator_id, at in db.session.execute(select(Review.evaluator_id, Review.submitted_at)):
        acted.setdefault(evaluator_id, []).append(at)
    for user in users:
        times = acted.get(user.id)
        if user.organisation is not None:
            user.created_at = min(times) - timedelta(days=rng.randint(1, 25), hours=3)
            user.organisation.created_at = user.created_at
        else:
            user.created_at = opens - timedelta(days=rng.randint(20, 60), hours=4)
        last = max(times) if times else now - timedelta(days=rng.randint(1, 20), hours=5)
        user.last_login_at = last - timedelta(minutes=rng.randint(2, 40))
        for column in ("created_at", "last_login_at"):  # to the minute, as the rest
            setattr(user, column, getattr(user, column).replace(second=0, microsecond=0))
        # Each followed the link mailed at registration (or the invitation) soon after.
        user.email_verified_at = user.created_at + timedelta(minutes=20)
