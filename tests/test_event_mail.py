"""The messages of each event, delivered through a real SMTP server (tests/mail_server.py).

Every event sends exactly one message to the person it concerns, with what they need to
know; a refused action sends nothing; a digest user gets one daily e-mail instead of the
non-urgent ones; a disabled account gets nothing; HTML parts escape what users typed.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from flask import current_app
from sqlalchemy import func, select

from tests.helpers import login
from vouchers.clock import programme_zone, today
from vouchers.extensions import db
from vouchers.models import Assignment, OutboxMessage
from vouchers.services import (
    digests,
    mail_preferences,
    notifications,
    outbox,
    ranking,
    reporting,
    transitions,
)


def last_id() -> int:
    db.session.commit()
    return db.session.scalar(select(func.max(OutboxMessage.id))) or 0


def queued_after(mark: int) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id > mark).order_by(OutboxMessage.id)))


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def local(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=programme_zone())


def act(client, manager, application, action: str, **fields):
    """A manager's action through the application page's route."""
    login(client, manager)
    return client.post(f"/manage/applications/{application.id}/actions/{action}",
                       data={f"{action}-{k}": v for k, v in fields.items()})


@pytest.fixture(autouse=True)
def _render_outside_requests(monkeypatch):
    """Mail is queued outside requests too (the factories here, ``flask send-reminders``),
    where render_template's context processors (vouchers/navigation.py reads
    current_user) fail. Until services/outbox.py renders through the Jinja environment
    itself, as here, this stands in for that fix."""
    monkeypatch.setattr(outbox, "render_template", lambda name, **context:
                        current_app.jinja_env.get_template(name).render(context))


@pytest.fixture
def settled(deliver):
    """Sends what the world's set-up queued, so a test sees only its own event's mail."""
    def run():
        db.session.commit()
        deliver()
        return last_id()
    return run


# --- the applicant's messages -------------------------------------------------------------


def test_submission_receipt(app, client, make, deliver, settled):
    application = make.application("draft")
    mark = settled()
    login(client, application.applicant)
    assert client.post(f"/apply/applications/{application.id}/submit").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id, row.application_id) == (
        "submitted", application.applicant_id, application.id)
    [message] = deliver()
    assert message["To"] == application.applicant.email
    assert message["Subject"] == f"Received: {application.reference}"
    text = text_of(message)
    for expected in (application.reference, application.title, "Market validation",
                     "€60,000.00", "What we will do.", "What happens next",
                     f"http://127.0.0.1:5000/apply/applications/{application.id}"):
        assert expected in text
    assert "€60,000.00" in html_of(message)
    # The footer says why and where to change it.
    assert "http://127.0.0.1:5000/account/mail" in text
    assert "/account/mail" in html_of(message)


def test_returned_for_changes_carries_the_comment(app, client, make, deliver, settled):
    application = make.application("submitted")
    manager = make.manager()
    mark = settled()
    response = act(client, manager, application, "return_for_changes",
                   comment="Attach the provider's quote, please.")
    assert response.status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("returned", application.applicant_id)
    [message] = deliver()
    assert message["To"] == application.applicant.email
    assert "Attach the provider's quote, please." in text_of(message)
    assert f"/apply/applications/{application.id}/edit" in text_of(message)


def test_award_tells_amount_conditions_deadline_and_advance(app, client, make, deliver,
                                                             settled):
    call = make.call()
    call.advance_share = Decimal("0.30")
    db.session.commit()
    application = make.application("under_review", call.voucher_type("market_validation"))
    manager = make.manager()
    mark = settled()
    assert act(client, manager, application, "award", amount="50000.00").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("awarded", application.applicant_id)
    [message] = deliver()
    text = text_of(message)
    due = application.report_due_on
    assert due is not None
    for expected in ("€50,000.00", "75%", due.strftime("%d %b %Y"), "€15,000.00", "30%",
                     "final report", "evidence"):
        assert expected in text, expected
    assert "€15,000.00" in html_of(message)


def test_a_refused_award_sends_nothing(app, client, make, settled):
    call = make.call()
    cvt = call.voucher_type("market_validation")
    cvt.envelope = Decimal("10000")
    db.session.commit()
    application = make.application("under_review", cvt, requested="8000")
    mark = settled()
    # Over the request, then over the envelope: both refused.
    assert act(client, make.manager(), application, "award",
               amount="9000.00").status_code == 422
    application.requested_amount = Decimal("20000")
    db.session.commit()
    mark = last_id()
    response = act(client, make.manager(), application, "award", amount="20000.00")
    assert response.status_code in (409, 422)
    assert application.state == "under_review"
    assert queued_after(mark) == []


def test_rejection_gives_the_reason_and_the_scores_the_applicant_may_see(
        app, client, make, deliver, settled):
    cvt = make.call().voucher_type("market_validation")
    cvt.threshold = Decimal("3.50")
    db.session.commit()
    application = make.application("submitted", cvt)
    evaluator = make.review(application, score=2)
    manager = make.manager()
    mark = settled()
    # Without a reason the rejection is refused and tells nobody.
    assert act(client, manager, application, "reject", comment="").status_code in (400, 422)
    assert queued_after(mark) == []
    assert act(client, manager, application, "reject",
               comment="Below the call's threshold.").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("rejected", application.applicant_id)
    [message] = deliver()
    text = text_of(message)
    for expected in ("Below the call's threshold.", "2.00 of 5", "threshold: 3.50 of 5",
                     "Criterion 1: 2.00", "the call asks at least 3.50"):
        assert expected in text, expected
    # Who scored and what they wrote stay with the programme.
    assert evaluator.name not in text and "Good." not in text
    assert evaluator.name not in html_of(message)


def test_waitlisted_gives_the_reserve_position(app, client, make, deliver, settled):
    cvt = make.call().voucher_type("market_validation")
    manager = make.manager()
    first = make.application("submitted", cvt, manager=manager)
    make.review(first, manager=manager, score=5)
    second = make.application("submitted", cvt, manager=manager)
    make.review(second, manager=manager, score=3)
    transitions.waitlist(first, manager)
    mark = settled()
    assert act(client, manager, second, "waitlist", comment="").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("waitlisted", second.applicant_id)
    [message] = deliver()
    assert "You are number 2 on the reserve list of Market validation" in text_of(message)
    assert "number 2" in html_of(message)


def test_report_returned_carries_the_comment(app, client, make, deliver, settled):
    application = make.application("report_submitted")
    mark = settled()
    assert act(client, make.manager(), application, "return_report",
               comment="Attach the invoices.").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("report_returned", application.applicant_id)
    [message] = deliver()
    assert "Attach the invoices." in text_of(message)
    assert f"/apply/applications/{application.id}/report" in text_of(message)


def test_report_approved_gives_the_payable_amount(app, client, make, deliver, settled):
    application = make.application("reporting")
    # 40,000 of actual costs at 75%: 30,000 payable of the 60,000 awarded.
    reporting.save_final_report(application, application.applicant, summary="Done.",
                                actual_costs="40000")
    reporting.submit_final_report(application, application.applicant)
    mark = settled()
    assert act(client, make.manager(), application, "approve_report",
               comment="").status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("report_approved", application.applicant_id)
    [message] = deliver()
    assert "Payable:       €30,000.00" in text_of(message)
    assert "€30,000.00" in html_of(message)


def test_payment_made_masks_the_iban(app, client, make, deliver, settled):
    application = make.application("completed")
    application.organisation.iban = "NL14INGB1707536455"
    mark = settled()
    response = act(client, make.manager(), application, "record_payment", amount="60000.00",
                   paid_on=today().isoformat(), reference="BANK-77", kind="payment")
    assert response.status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("payment_made", application.applicant_id)
    [message] = deliver()
    text = text_of(message)
    for expected in ("€60,000.00", "Payment", "BANK-77", today().strftime("%d %b %Y"),
                     "•••• 6455"):
        assert expected in text, expected
    assert "NL14INGB1707536455" not in text and "NL14INGB1707536455" not in html_of(message)


# --- evaluators ---------------------------------------------------------------------------


def test_auto_assignment_of_three_applications_is_one_message(app, client, make, deliver,
                                                               settled):
    call = make.call()
    call.review_deadline = today() + timedelta(days=20)
    db.session.commit()
    cvt = call.voucher_type("market_validation")
    applications = [make.application("submitted", cvt) for _ in range(3)]
    evaluator = make.evaluator()
    manager = make.manager()
    mark = settled()
    login(client, manager)
    response = client.post(f"/manage/calls/{call.id}/auto-assign",
                           data={"per_application": "1", "return_to": "dashboard"})
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 3
    [row] = queued_after(mark)
    assert (row.kind, row.user_id) == ("assigned", evaluator.id)
    [message] = deliver()
    assert message["To"] == evaluator.email
    text = text_of(message)
    assert "3 applications" in text
    for a in applications:
        assert a.reference in text
        assert f"/evaluate/applications/{a.id}" in text
    assert call.review_deadline.strftime("%d %b %Y") in text


def test_hand_assignment_tells_the_evaluator(app, client, make, deliver, settled):
    application = make.application("submitted")
    evaluator = make.evaluator()
    mark = settled()
    login(client, make.manager())
    response = client.post(f"/manage/applications/{application.id}/assignments",
                           data={"assign-evaluator": str(evaluator.id)})
    assert response.status_code == 303
    [row] = queued_after(mark)
    assert (row.kind, row.user_id, row.application_id) == ("assigned", evaluator.id,
                                                           application.id)
    [message] = deliver()
    assert message["Subject"] == f"New assignment: {application.reference}"
    assert application.reference in text_of(message)


# --- who gets nothing -----------------------------------------------------------------------


def test_a_disabled_applicant_gets_nothing(app, make, settled):
    application = make.application("under_review")
    application.applicant.enabled = False
    mark = settled()
    transitions.reject(application, make.manager(), "Not selected.")
    assert queued_after(mark) == []


def test_a_disabled_evaluator_gets_nothing(app, make, settled):
    application = make.application("submitted")
    evaluator = make.evaluator()
    evaluator.enabled = False
    mark = settled()
    notifications.assigned([(application.id, evaluator.id)])
    assert queued_after(mark) == []


# --- escaping ----------------------------------------------------------------------------------


def test_html_parts_escape_what_users_typed(app, client, make, deliver, settled):
    application = make.application("draft")
    application.title = "<script>alert(1)</script> & co"
    db.session.commit()
    transitions.submit(application, application.applicant)
    transitions.return_for_changes(application, make.manager(), "<b>Bold</b> request")
    db.session.commit()
    received = deliver()
    assert [m["Subject"].split(":")[0] for m in received] == ["Received", "Changes needed"]
    for message in received:
        html = html_of(message)
        assert "<script>" not in html and "&lt;script&gt;" in html
        # Plain text is not escaped.
        assert "<script>alert(1)</script> & co" in text_of(message)
    assert "&lt;b&gt;Bold&lt;/b&gt; request" in html_of(received[1])
    assert "<b>Bold</b> request" in text_of(received[1])


# --- digests ----------------------------------------------------------------------------------


def test_a_digest_user_gets_one_daily_email_of_the_non_urgent_messages(
        app, make, deliver, settled):
    applicant = make.applicant()
    applicant.mail_digest = True
    cvt = make.call().voucher_type("market_validation")
    first = make.draft(cvt, applicant)
    second = make.draft(make.call().voucher_type("travel"), applicant)
    mark = settled()
    transitions.submit(first, applicant)
    transitions.submit(second, applicant)
    # Urgent: returned for changes goes out at once, digest or not.
    transitions.return_for_changes(second, make.manager(), "Add the registration.")
    db.session.commit()
    [urgent] = deliver()
    assert urgent["Subject"] == f"Changes needed: {second.reference}"
    waiting = [r for r in queued_after(mark) if r.kind == "submitted"]
    assert len(waiting) == 2 and all(r.digest for r in waiting)

    tomorrow = today() + timedelta(days=1)
    # Not before the morning.
    assert digests.send_user_digests(local(tomorrow, 5)) == 0
    assert digests.send_user_digests(local(tomorrow, 9)) == 1
    db.session.commit()
    # Once a day, however often cron runs it.
    assert digests.send_user_digests(local(tomorrow, 10)) == 0
    db.session.commit()
    rows = queued_after(mark)
    [digest] = [r for r in rows if r.kind == "digest"]
    assert digest.dedupe_key == f"digest:user:{applicant.id}:{tomorrow.isoformat()}"
    assert {(r.status, r.digest_message_id) for r in rows if r.kind == "submitted"} == {
        ("digested", digest.id)}
    [message] = deliver(now=local(tomorrow, 10))
    assert message["To"] == applicant.email
    assert message["Subject"] == "Your daily summary"
    text = text_of(message)
    for application in (first, second):
        assert f"Received: {application.reference}" in text
        assert application.title in text
    assert "2 messages" in text


def test_choosing_immediate_mail_releases_what_waits(app, client, make, deliver, settled):
    applicant = make.applicant()
    applicant.mail_digest = True
    application = make.draft(make.call().voucher_type("travel"), applicant)
    settled()
    transitions.submit(application, applicant)
    db.session.commit()
    assert deliver() == []
    login(client, applicant)
    page = client.get("/account/mail")
    assert page.status_code == 200
    assert "Collect non-urgent messages in one daily e-mail" in page.get_data(as_text=True)
    response = client.post("/account/mail", data={"delivery": "immediate"})
    assert response.status_code == 303
    db.session.expire_all()
    assert applicant.mail_digest is False
    [message] = deliver()
    assert message["Subject"] == f"Received: {application.reference}"
    assert client.post("/account/mail", data={}).status_code == 400
    assert client.post("/account/mail", data={"delivery": "digest"}).status_code == 303
    db.session.expire_all()
    assert applicant.mail_digest is True


def test_the_account_menu_links_the_mail_settings(app, client, make):
    login(client, make.applicant())
    assert 'href="/account/mail"' in client.get("/apply/").get_data(as_text=True)


def test_managers_get_one_digest_a_day_of_what_needs_action(app, make, deliver, settled):
    manager = make.manager()
    make.manager().enabled = False
    tomorrow = today() + timedelta(days=1)
    # Nothing to act on: no digest.
    mark = settled()
    assert digests.send_manager_digests(local(tomorrow, 9)) == 0
    application = make.application("submitted")  # nobody assigned yet
    mark = settled()
    assert digests.send_manager_digests(local(tomorrow, 9)) == 1
    db.session.commit()
    assert digests.send_manager_digests(local(tomorrow, 11)) == 0
    db.session.commit()
    [row] = queued_after(mark)
    assert (row.kind, row.user_id, row.dedupe_key) == (
        "manager_digest", manager.id, f"digest:manager:{manager.id}:{tomorrow.isoformat()}")
    [message] = deliver(now=local(tomorrow, 11))
    assert message["To"] == manager.email
    text = text_of(message)
    assert "Applications short of evaluators: 1" in text
    assert (f"/manage/applications?call={application.call_id}&needs=short_of_evaluators"
            in text)


def test_digests_list_each_message_without_its_footer(app, make):
    applicant = make.applicant()
    applicant.mail_digest = True
    application = make.draft(make.call().voucher_type("travel"), applicant)
    transitions.submit(application, applicant)
    db.session.commit()
    assert digests.send_user_digests(local(today() + timedelta(days=1), 9)) == 1
    db.session.commit()
    digest = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "digest")).one()
    # One footer: the digest's own.
    assert digest.body_text.count("/account/mail") == 1
    assert "We received your application" in digest.body_text or \
        "we received your application" in digest.body_text


def test_the_settings_page_lists_what_waits_and_what_does_not(app, make):
    waiting, urgent = mail_preferences.kinds_for(make.evaluator())
    assert "new assignments" in waiting
    assert "a review's deadline" in urgent
    assert "a voucher awarded" not in waiting + urgent


def test_assignments_in_two_calls_are_two_messages(app, make, settled):
    """Each call has its own review deadline: one message per evaluator and call."""
    evaluator = make.evaluator()
    a = make.application("submitted")
    b = make.application("submitted")
    assert a.call_id != b.call_id
    mark = settled()
    notifications.assigned([(a.id, evaluator.id), (b.id, evaluator.id)])
    db.session.commit()
    rows = queued_after(mark)
    assert [(r.kind, r.application_id) for r in rows] == [("assigned", a.id),
                                                          ("assigned", b.id)]


def test_the_manager_digest_counts_overdue_reports(app, make):
    manager = make.manager()
    application = make.application("awarded", manager=manager)
    application.report_due_on = today() - timedelta(days=2)
    db.session.commit()
    assert digests.send_manager_digests(local(today() + timedelta(days=1), 9)) == 1
    db.session.commit()
    digest = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "manager_digest")).one()
    assert digest.user_id == manager.id
    assert "Final reports overdue: 1" in digest.body_text
    assert "needs=reports_overdue" in digest.body_text


def test_reserve_places_follow_the_ranking_within_one_transaction(app, make):
    """A funding line waitlists many in one transaction: each message has the place the
    application's page shows at that moment."""
    cvt = make.call().voucher_type("market_validation")
    manager = make.manager()
    by_score = {}
    for score in (5, 4, 3):
        application = make.application("submitted", cvt, manager=manager)
        make.review(application, manager=manager, score=score)
        by_score[score] = application
    mark = last_id()
    places = []
    for score in (4, 5, 3):  # one transaction: no commit in between
        transitions.waitlist(by_score[score], manager)
        places.append(ranking.position_of(by_score[score]).reserve)
    db.session.commit()
    assert places == [1, 1, 3]
    texts = [r.body_text for r in queued_after(mark)]
    assert [f"You are number {n} on the reserve list" in t
            for n, t in zip(places, texts, strict=True)] == [True, True, True]
