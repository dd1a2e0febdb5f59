"""The mail sender against a real SMTP server (tests/mail_server.py), and the mailbox page.

A queued message is delivered once, with its text and HTML parts and its headers; with the
server down it waits, and goes out once when the server is back and its retry time came;
the server's permanent refusal fails it at once; a rolled-back action queues nothing; two
senders at once send each message once; in development the message is a file the
managers' mailbox page shows.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from email import policy as email_policy
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import at_once, login, logout
from vouchers.extensions import db
from vouchers.models import OutboxMessage
from vouchers.models.base import utcnow
from vouchers.services import mail_sender, outbox
from vouchers.services.errors import InvalidInput, NotAllowed
from vouchers.services.mail_sender import BLANKED, deliver_due, retry_delay
from vouchers.services.transaction import atomic

ROOT = Path(__file__).resolve().parent.parent
TO = "ada@lovelace.example"


def queue(to: str = TO, **changes) -> OutboxMessage:
    """One committed message (a kind whose templates this part owns), as a service would."""
    with atomic():
        message = outbox.queue("password_changed", to=to)
        for name, value in changes.items():
            setattr(message, name, value)
    db.session.commit()
    return message


def row(message: OutboxMessage) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message.id)


def statuses() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


@pytest.fixture
def files(app, tmp_path, monkeypatch):
    """Development: mail goes into files under a folder of this test's own."""
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "file")
    monkeypatch.setitem(app.config, "MAIL_FILE_PATH", str(tmp_path / "mail"))
    return tmp_path / "mail"


# --- delivering ------------------------------------------------------------------------


def test_a_queued_message_is_delivered_once_with_both_parts_and_its_headers(
        app, smtp_server, deliver):
    message = queue()

    [received] = deliver()

    assert received["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert received["To"] == TO
    assert received["Subject"] == "Your password was changed"
    assert received["Message-ID"] == message.message_id
    assert smtp_server.envelopes == [("vouchers@localhost", [TO])]
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert "was\njust changed" in text and "http://127.0.0.1:5000/account/reset" in text
    assert "<h1" in html and 'href="http://127.0.0.1:5000/account/reset"' in html
    sent = row(message)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, "")
    assert sent.sent_at is not None and sent.claimed_until is None
    assert "just changed" in sent.body_text  # kept: it holds no single-use link

    assert deliver() == []
    assert deliver(now=utcnow() + timedelta(days=2)) == []


def test_with_the_server_down_a_message_waits_and_goes_out_once_when_it_is_back(
        smtp_server, deliver):
    message = queue()
    start = utcnow()
    smtp_server.stop()

    assert deliver(now=start) == []
    waiting = row(message)
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert waiting.next_attempt_at == start + timedelta(seconds=60)
    assert "Connection" in waiting.last_error  # ConnectionRefusedError: ...

    # Not due yet: nothing is tried, even with the server back.
    smtp_server.start()
    assert deliver(now=start + timedelta(seconds=59)) == []
    assert row(message).attempts == 1
    # Due: delivered, once.
    [received] = deliver(now=start + timedelta(seconds=61))
    assert received["Message-ID"] == message.message_id
    assert deliver(now=start + timedelta(hours=12)) == []
    assert (row(message).status, row(message).attempts) == ("sent", 2)
    assert len(smtp_server.messages) == 1


def test_a_run_stops_at_the_first_sign_of_a_server_down(smtp_server, deliver):
    """One attempt per run while the server is down, not one per waiting message."""
    messages = [queue(f"person{n}@example.org") for n in range(3)]
    smtp_server.stop()

    assert str(deliver_due()) == "sent 0, retrying 1, failed 0"

    assert [row(m).attempts for m in messages] == [1, 0, 0]
    smtp_server.start()
    assert len(deliver(now=utcnow() + timedelta(minutes=2))) == 3
    assert statuses() == ["sent"] * 3


def test_the_delays_grow_to_a_ceiling_and_the_last_attempt_fails_the_message(
        app, smtp_server, deliver, monkeypatch):
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(10) == retry_delay(300) == timedelta(hours=6)
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    message = queue()
    smtp_server.stop()

    at = utcnow()
    for attempt in (1, 2, 3):
        assert deliver(now=at) == []
        assert row(message).attempts == attempt
        at = row(message).next_attempt_at

    failed = row(message)
    assert failed.status == "failed" and failed.last_error
    smtp_server.start()
    assert deliver(now=at + timedelta(days=30)) == []  # given up on: not sent by itself


def test_a_manager_sends_a_failed_message_again_from_its_page(
        app, client, make, smtp_server, deliver):
    smtp_server.refuse(TO)
    message = queue()
    assert deliver() == []
    assert row(message).status == "failed"
    smtp_server.refused.clear()  # the address was put right on the server's side
    login(client, make.manager())

    page = client.get(f"/manage/mailbox/{message.id}").get_data(as_text=True)
    assert "Retry" in page and "550 5.1.1 No such user" in page
    response = client.post(f"/manage/mailbox/{message.id}/retry")

    assert response.status_code == 303
    again = row(message)
    assert (again.status, again.attempts) == ("pending", 0)
    [received] = deliver()
    assert received["Message-ID"] == message.message_id
    # A sent message cannot be sent again from the page.
    assert "Retry" not in client.get(f"/manage/mailbox/{message.id}").get_data(as_text=True)
    assert client.post(f"/manage/mailbox/{message.id}/retry").status_code == 404


def test_a_permanent_refusal_fails_at_once_and_a_temporary_one_waits(smtp_server, deliver):
    gone = queue("gone@example.org")
    full = queue("full@example.org")
    fine = queue("fine@example.org")
    smtp_server.refuse("gone@example.org")
    smtp_server.refuse("full@example.org", "452 4.2.2 Mailbox full")

    [received] = deliver()

    assert received["To"] == "fine@example.org"
    assert (row(gone).status, row(gone).attempts) == ("failed", 1)
    assert "refused the address: 550 5.1.1 No such user" in row(gone).last_error
    assert row(full).status == "pending" and "452" in row(full).last_error
    assert row(fine).status == "sent"


def test_a_rolled_back_action_queues_and_sends_nothing(app, smtp_server, deliver):
    with pytest.raises(InvalidInput), atomic():
        outbox.queue("password_changed", to=TO)
        raise InvalidInput("The action was refused after the message was queued.")
    with atomic():
        outbox.queue("password_changed", to="other@example.org")
    db.session.rollback()  # the whole transaction, as the request boundary on an error

    assert statuses() == []
    assert deliver() == []


def test_a_sensitive_message_loses_its_bodies_once_sent(smtp_server, deliver):
    message = queue(sensitive=True)

    [received] = deliver()

    assert "/account/reset" in received.get_body(("plain",)).get_content()
    sent = row(message)
    assert sent.body_text == sent.body_html == BLANKED
    assert "/account/reset" not in sent.body_text + sent.body_html
    # One that waits keeps them, or it could not be sent.
    waiting = queue(sensitive=True)
    smtp_server.stop()
    deliver()
    assert "/account/reset" in row(waiting).body_text


def test_two_senders_at_once_send_each_message_once(app, smtp_server):
    messages = [queue(f"person{n}@example.org") for n in range(12)]

    outcomes = at_once(app, [deliver_due, deliver_due])

    assert not [o for o in outcomes if isinstance(o, str)], outcomes
    assert sum(o.sent for o in outcomes) == 12
    received = sorted(m["Message-ID"] for m in smtp_server.messages)
    assert received == sorted(m.message_id for m in messages)
    assert statuses() == ["sent"] * 12
    assert all(row(m).attempts == 1 for m in messages)


def test_a_message_a_stopped_sender_held_goes_out_when_its_claim_ran_out(
        smtp_server, deliver):
    now = utcnow()
    stalled = queue(status="sending", attempts=1, claimed_until=now - timedelta(seconds=1))
    held = queue("held@example.org", status="sending", attempts=1,
                 claimed_until=now + timedelta(minutes=5))

    [received] = deliver(now=now)

    assert received["Message-ID"] == stalled.message_id
    assert (row(stalled).status, row(stalled).attempts) == ("sent", 2)
    assert row(held).status == "sending"  # another sender is on it


def test_messages_for_the_daily_digest_are_left_to_it(smtp_server, deliver):
    digested = queue(digest=True)

    assert deliver() == []
    assert row(digested).status == "pending"


# --- development: files, and the mailbox page --------------------------------------------


def test_in_development_each_message_is_a_file_the_mailbox_page_shows(client, make, files):
    message = queue(subject="Your password was changed <today>")

    assert str(deliver_due()) == "sent 1, retrying 0, failed 0"

    path = files / f"{message.id}.eml"
    written = email.message_from_bytes(path.read_bytes(), policy=email_policy.default)
    assert written["Message-ID"] == message.message_id and written["To"] == TO
    assert row(message).status == "sent"
    login(client, make.manager())
    listing = client.get("/manage/mailbox").get_data(as_text=True)
    assert TO in listing and "password_changed" in listing and "Sent" in listing
    response = client.get(f"/manage/mailbox/{message.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "the password of your account" in page  # the text part
    # The HTML part, escaped into a sandboxed frame: it can neither script nor reach out.
    assert "<iframe sandbox srcdoc=\"&lt;!doctype html&gt;" in page
    assert "&lt;h1 style=" in page and "<h1 style=" not in page
    assert "Your password was changed &lt;today&gt;" in page
    assert "style-src 'self' 'unsafe-inline'" in response.headers["Content-Security-Policy"]


def test_a_message_not_written_yet_says_so(client, make, files):
    message = queue()
    login(client, make.manager())

    page = client.get(f"/manage/mailbox/{message.id}").get_data(as_text=True)

    assert "not been written to its file yet" in page
    assert "the password of your account" not in page


def test_with_a_mail_server_the_page_shows_the_status_and_no_bodies(
        client, make, smtp_server, deliver):
    message = queue()
    deliver()
    login(client, make.manager())

    page = client.get(f"/manage/mailbox/{message.id}").get_data(as_text=True)

    assert "Sent" in page and TO in page and message.message_id.strip("<>") in page
    assert "not kept for display" in page
    assert "the password of your account" not in page and "<iframe" not in page


def test_the_mailbox_lists_newest_first_and_filters_by_status(client, make, smtp_server,
                                                               deliver):
    first = queue("first@example.org")
    deliver()
    queue("second@example.org", status="failed", last_error="550 refused")
    login(client, make.manager())

    everything = client.get("/manage/mailbox").get_data(as_text=True)
    failed = client.get("/manage/mailbox?status=failed").get_data(as_text=True)
    nonsense = client.get("/manage/mailbox?status=lost&page=99")

    assert everything.index("second@example.org") < everything.index("first@example.org")
    assert "second@example.org" in failed and "first@example.org" not in failed
    assert "550 refused" in failed
    assert nonsense.status_code == 200  # an unknown filter shows everything
    assert f"/manage/mailbox/{first.id}" in everything


def test_only_managers_see_the_mailbox(client, make, files):
    message = queue(status="failed")
    for user in (make.applicant(), make.evaluator()):
        login(client, user)
        for url in ("/manage/mailbox", f"/manage/mailbox/{message.id}"):
            assert client.get(url).status_code == 404
        assert client.post(f"/manage/mailbox/{message.id}/retry").status_code == 404
    logout(client)
    response = client.get(f"/manage/mailbox/{message.id}")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert row(message).status == "failed"


# --- the command ---------------------------------------------------------------------------


def test_send_mail_prints_what_it_did(runner, smtp_server):
    queue()
    queue("gone@example.org")
    smtp_server.refuse("gone@example.org")

    result = runner.invoke(args=["send-mail"])

    assert result.exit_code == 0, result.output
    assert result.output == "sent 1, retrying 0, failed 1\n"
    assert runner.invoke(args=["send-mail"]).output == "sent 0, retrying 0, failed 0\n"


def test_send_mail_loop_sends_and_stops_cleanly_on_sigterm(app, database_url, tmp_path):
    message = queue()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAIL_")}
    env |= {"DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "test", "MAIL_FOLDER": str(tmp_path / "mail")}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "vouchers", "send-mail", "--loop",
         "--interval", "0.2"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(60, process.kill)  # a hung sender fails the test, not CI
    watchdog.start()
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("sent 1, retrying 0, failed 0"):
                break
        process.send_signal(signal.SIGTERM)
        rest = process.stdout.read()
        assert process.wait(timeout=30) == 0, "".join(lines) + rest
    finally:
        watchdog.cancel()
        process.kill()
        process.stdout.close()
    assert lines[0].startswith("Sending mail every 0.2 s")
    assert rest.rstrip().endswith("Stopped.")
    assert (tmp_path / "mail" / f"{message.id}.eml").exists()
    assert row(message).status == "sent"


def test_only_a_failed_message_is_sent_again(make, smtp_server):
    message = queue()
    manager = make.manager()

    with pytest.raises(NotAllowed):
        mail_sender.retry(message, manager)  # pending: it goes out anyway
    failed = queue(status="failed")
    with pytest.raises(NotAllowed):
        mail_sender.retry(failed, make.applicant())
    mail_sender.retry(failed, manager)
    db.session.commit()
    assert row(failed).status == "pending"
