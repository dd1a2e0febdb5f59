"""Reminders of deadlines: each goes once per deadline, through the outbox to a real SMTP
server, however often (and however concurrently) `send-reminders` runs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from tests.helpers import at_once
from vouchers.clock import programme_zone, today
from vouchers.extensions import db
from vouchers.models import Application, OutboxMessage
from vouchers.services import reminders, reporting, reviews
from vouchers.services.deadlines import day


def noon(d) -> datetime:
    """Midday of local day ``d``, as the UTC instant the service is given."""
    return datetime.combine(d, time(12), programme_zone()).astimezone(UTC)


def reminders_queued(kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.kind.in_(
        [kind] if kind else ["review_due", "report_due"])).order_by(OutboxMessage.id)
    return list(db.session.scalars(query))


def run(at) -> reminders.ReminderResult:
    result = reminders.send_reminders(at)
    db.session.commit()
    return result


@pytest.fixture
def world(make):
    """A call whose reviews are due in ten days: an evaluator with a review still to come,
    one who reviewed, one who declared a conflict; a voucher whose report is due in
    sixty days and one whose report is in."""
    manager = make.manager()
    call = make.call()
    call.review_deadline = today() + timedelta(days=10)
    w = SimpleNamespace(call=call, manager=manager, due=call.review_deadline)
    mv = call.voucher_type("market_validation")
    w.slow, w.quick, w.conflicted = make.evaluator(), make.evaluator(), make.evaluator()
    w.application = make.application("under_review", mv, manager=manager, evaluator=w.quick)
    w.assignment = reviews.assign(w.application, w.slow, manager)
    reviews.assign(w.application, w.conflicted, manager)
    reviews.declare_conflict(w.application, w.conflicted, "My former employer.")
    w.voucher = make.application("reporting", call.voucher_type("travel"), manager=manager)
    w.reported = make.application("report_submitted", call.voucher_type("travel"),
                                  manager=manager)
    w.report_due = today() + timedelta(days=60)
    for a in (w.voucher, w.reported):
        db.session.execute(update(Application).where(Application.id == a.id)
                           .values(report_due_on=w.report_due))
    db.session.commit()
    return w


def test_nothing_is_sent_before_the_reminder_window(world):
    assert run(noon(world.due - timedelta(days=4))) == reminders.ReminderResult(0, 0)
    assert reminders_queued() == []


def test_a_review_reminder_goes_once_before_and_once_after_the_deadline(world):
    before = noon(world.due - timedelta(days=3))
    assert run(before) == reminders.ReminderResult(reviews=1, reports=0)
    assert run(before) == reminders.ReminderResult(0, 0)
    assert run(noon(world.due)) == reminders.ReminderResult(0, 0)  # the last day: still soon

    after = noon(world.due + timedelta(days=1))
    assert run(after) == reminders.ReminderResult(reviews=1, reports=0)
    assert run(after + timedelta(days=5)) == reminders.ReminderResult(0, 0)

    soon, overdue = reminders_queued("review_due")
    assert soon.to_address == overdue.to_address == world.slow.email
    assert soon.dedupe_key == f"review_due:{world.assignment.id}:{world.due}:soon"
    assert overdue.dedupe_key == f"review_due:{world.assignment.id}:{world.due}:overdue"
    # The subject says the day as the body does ("12 May 2026"), not as ISO.
    assert soon.subject == f"Review due {day(world.due)}: {world.application.reference}"
    assert overdue.subject == f"Overdue: review due {day(world.due)}: {world.application.reference}"
    assert f"by {day(world.due)}, in 3 days" in soon.body_text
    assert "was due" in overdue.body_text and "has not received it yet" in overdue.body_html
    link = f"/evaluate/applications/{world.application.id}"
    assert link in soon.body_text and link in soon.body_html


def test_a_reminder_first_due_after_the_deadline_is_only_the_overdue_one(world):
    assert run(noon(world.due + timedelta(days=2))).reviews == 1
    [message] = reminders_queued("review_due")
    assert message.dedupe_key.endswith(":overdue")


def test_a_moved_deadline_is_reminded_of_again(world):
    assert run(noon(world.due - timedelta(days=1))).reviews == 1
    world.call.review_deadline = world.due + timedelta(days=7)
    db.session.commit()
    assert run(noon(world.due - timedelta(days=1))).reviews == 0  # the new day is far off
    assert run(noon(world.due + timedelta(days=5))).reviews == 1
    assert [m.dedupe_key.split(":")[2] for m in reminders_queued("review_due")] == [
        world.due.isoformat(), (world.due + timedelta(days=7)).isoformat()]


def test_a_submitted_review_stops_the_reminders(world):
    assert run(noon(world.due - timedelta(days=2))).reviews == 1
    criteria = world.application.call_voucher_type.criteria
    reviews.confirm_no_conflict(world.application, world.slow)
    reviews.submit_review(world.application, world.slow, scores={c.id: 3 for c in criteria},
                          recommendation="award", comment="Fine.")
    db.session.commit()
    assert run(noon(world.due + timedelta(days=1))).reviews == 0


def test_the_report_reminders_go_to_the_applicant_until_the_report_is_in(world):
    assert run(noon(world.report_due - timedelta(days=15))).reports == 0
    soon_at = noon(world.report_due - timedelta(days=14))
    assert run(soon_at).reports == 1
    assert run(soon_at).reports == 0
    assert run(noon(world.report_due + timedelta(days=1))).reports == 1
    soon, overdue = reminders_queued("report_due")
    assert soon.to_address == overdue.to_address == world.voucher.applicant.email
    assert soon.dedupe_key == f"report_due:{world.voucher.id}:{world.report_due}:soon"
    assert overdue.dedupe_key == f"report_due:{world.voucher.id}:{world.report_due}:overdue"
    assert f"/apply/applications/{world.voucher.id}" in soon.body_text
    assert soon.subject == f"Final report due {day(world.report_due)}: {world.voucher.reference}"
    assert overdue.subject == (f"Overdue: final report due {day(world.report_due)}: "
                               f"{world.voucher.reference}")
    # The voucher whose report is in got none.
    assert {m.application_id for m in reminders_queued("report_due")} == {world.voucher.id}


def test_a_submitted_report_stops_the_report_reminders(world):
    assert run(noon(world.report_due - timedelta(days=3))).reports == 1
    reporting.submit_final_report(world.voucher, world.voucher.applicant)
    db.session.commit()
    assert run(noon(world.report_due + timedelta(days=3))).reports == 0


def test_disabled_accounts_get_no_reminders(world):
    world.slow.enabled = False
    world.voucher.applicant.enabled = False
    db.session.commit()
    late = noon(world.report_due + timedelta(days=1))
    assert run(late) == reminders.ReminderResult(0, 0)
    assert reminders_queued() == []


def test_the_windows_are_configurable(app, world):
    at = noon(world.due - timedelta(days=6))
    app.config.update(REVIEW_REMINDER_DAYS=7, REPORT_REMINDER_DAYS=60)
    try:
        assert run(at) == reminders.ReminderResult(reviews=1, reports=1)
    finally:
        del app.config["REVIEW_REMINDER_DAYS"], app.config["REPORT_REMINDER_DAYS"]


def test_two_runs_at_once_send_each_reminder_once(app, world):
    at = noon(world.report_due + timedelta(days=1))  # both deadlines passed
    outcomes = at_once(app, [lambda: reminders.send_reminders(at)] * 2)

    assert all(isinstance(o, reminders.ReminderResult) for o in outcomes), outcomes
    assert sorted(o.total for o in outcomes) == [0, 2]
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.kind.in_(["review_due", "report_due"]))) == 2


# --- the command, to a real SMTP server ----------------------------------------------------


def test_send_reminders_run_twice_sends_each_reminder_once(app, runner, make, deliver,
                                                           smtp_server):
    manager = make.manager()
    call = make.call()
    call.review_deadline = today() + timedelta(days=1)
    evaluator = make.evaluator()
    application = make.application("submitted", call.voucher_type("market_validation"))
    reviews.assign(application, evaluator, manager)
    voucher = make.application("awarded", call.voucher_type("travel"), manager=manager)
    db.session.execute(update(Application).where(Application.id == voucher.id)
                       .values(report_due_on=today() - timedelta(days=1)))
    db.session.commit()
    deliver()  # what the set-up queued (receipts, the assignment, the award)

    first = runner.invoke(args=["send-reminders"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("queued 2 reminders (1 review, 1 report), ")
    second = runner.invoke(args=["send-reminders"])
    assert second.output.strip() == "queued 0 reminders (0 reviews, 0 reports), 0 digests"

    received = [m for m in deliver() if m["Subject"].startswith(("Review due",
                                                                  "Overdue: final report"))]
    assert sorted((m["To"], m["Subject"]) for m in received) == sorted([
        (evaluator.email, f"Review due {day(call.review_deadline)}: {application.reference}"),
        (voucher.applicant.email,
         f"Overdue: final report due {day(voucher.report_due_on)}: {voucher.reference}"),
    ])
    review = next(m for m in received if m["To"] == evaluator.email)
    text = review.get_body(("plain",)).get_content()
    assert f"due\nby {day(call.review_deadline)}, in 1 day" in text
    assert f"http://127.0.0.1:5000/evaluate/applications/{application.id}" in text
    report = next(m for m in received if m["To"] == voucher.applicant.email)
    assert "has not received it yet" in report.get_body(("html",)).get_content()

    runner.invoke(args=["send-reminders"])
    assert [m for m in deliver() if "due" in m["Subject"]] == []
