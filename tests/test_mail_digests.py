"""The daily e-mails (services/digests.py) and the user's choice of them (the account's
mail settings): a digest user gets no immediate message for a non-urgent kind but one
daily e-mail with all of them; managers get one summary a day of what needs action."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.event_mail_support import (
    local,
    queued_after,
    settle,
    text_of,
)
from tests.helpers import at_once, login
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import OutboxMessage
from vouchers.services import digests, mail_preferences, transitions


def test_a_digest_user_gets_one_daily_email_of_the_non_urgent_messages(
        app, make, deliver):
    applicant = make.applicant()
    applicant.mail_digest = True
    cvt = make.call().voucher_type("market_validation")
    first = make.draft(cvt, applicant)
    second = make.draft(make.call().voucher_type("travel"), applicant)
    mark = settle(deliver)
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


def test_choosing_immediate_mail_releases_what_waits(app, client, make, deliver):
    applicant = make.applicant()
    applicant.mail_digest = True
    application = make.draft(make.call().voucher_type("travel"), applicant)
    settle(deliver)
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


def test_managers_get_one_digest_a_day_of_what_needs_action(app, make, deliver):
    manager = make.manager()
    make.manager().enabled = False
    tomorrow = today() + timedelta(days=1)
    # Nothing to act on: no digest.
    mark = settle(deliver)
    assert digests.send_manager_digests(local(tomorrow, 9)) == 0
    application = make.application("submitted")  # nobody assigned yet
    mark = settle(deliver)
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


def test_digests_list_each_message_without_its_footer_and_greeting(app, make):
    applicant = make.applicant()
    applicant.mail_digest = True
    application = make.draft(make.call().voucher_type("travel"), applicant)
    transitions.submit(application, applicant)
    db.session.commit()
    assert digests.send_user_digests(local(today() + timedelta(days=1), 9)) == 1
    db.session.commit()
    digest = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "digest")).one()
    # One footer and one greeting: the digest's own.
    assert digest.body_text.count("/account/mail") == 1
    assert digest.body_text.count("Dear ") == 1
    assert "We received your application" in digest.body_text


def test_the_settings_page_lists_what_waits_and_what_does_not(app, make):
    waiting, urgent = mail_preferences.kinds_for(make.evaluator())
    assert "new assignments" in waiting
    assert "a review's deadline" in urgent
    assert "a voucher awarded" not in waiting + urgent


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




def test_two_runs_at_once_write_each_digest_once(app, make):
    """Cron may start ``send-reminders`` while the last run still works."""
    manager = make.manager()
    applicant = make.applicant()
    applicant.mail_digest = True
    application = make.draft(make.call().voucher_type("travel"), applicant)
    transitions.submit(application, applicant)  # waits for the digest; nobody assigned
    db.session.commit()
    at = local(today() + timedelta(days=1), 9)

    def run():
        return digests.send_user_digests(at) + digests.send_manager_digests(at)

    outcomes = at_once(app, [run, run])
    assert sorted(outcomes) == [0, 2], outcomes
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    digest = next(r for r in rows if r.kind == "digest")
    assert sorted((r.kind, r.user_id) for r in rows if r.kind.endswith("digest")) == [
        ("digest", applicant.id), ("manager_digest", manager.id)]
    receipt = next(r for r in rows if r.kind == "submitted")
    assert (receipt.status, receipt.digest_message_id) == ("digested", digest.id)
