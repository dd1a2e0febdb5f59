"""The mail sender against a real SMTP server (tests/mail_server.py), and the mailbox page.

A queued message is delivered once, with its text and HTML parts and its headers; with the
server down it waits, and goes out once when the server is back and its retry time came;
the server's permanent refusal fails it at once; a rolled-back action queues nothing; two
senders at once send each message once, and one that lost its claim records nothing; an
account disabled after its message was queued receives nothing; a single-use link leaves
the database once its message is sent or failed; in development the message is a file the
managers' mailbox page shows (a single-use link only to its own recipient); the command
says where mail goes and refuses to send dead links.
"""

from __future__ import annotations

import email
import logging
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
from vouchers.config import DEFAULT_BASE_URL, mail_settings
from vouchers.extensions import db
from vouchers.models import OutboxMessage, User
from vouchers.models.base import utcnow
from vouchers.services import mail_sender, mailbox, outbox
from vouchers.services.errors import InvalidInput, NotAllowed
from vouchers.services.mail_sender import BLANKED, DISABLED, deliver_due, retry_delay
from vouchers.services.transaction import atomic

ROOT = Path(__file__).resolve().parent.parent
TO = "ada@lovelace.example"


RESET_LINK = "http://127.0.0.1:5000/account/reset/single-use-token"


def queue(to: str | User = TO, kind: str = "password_changed", **changes) -> OutboxMessage:
    """One committed message (a kind whose templates this part owns), as a service would."""
    context = {"token": "single-use-token", "lifetime": "1 hour", "expires_at": utcnow(),
               "requested_from": "127.0.0.1"} if kind == "password_reset" else {}
    with atomic():
        message = outbox.queue(kind, to=to, context=context)
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


@pytest.fixture(autouse=True)
def quiet_root_logger():
    """The commands' own output is what these tests read, and the app's log handler writes
    to the same stderr: the app's INFO lines ("mail 3 sent to ...") stay out of it, whatever
    level a test before this one left the root logger at (a new app sets INFO)."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    yield
    root.setLevel(level)


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
    assert TO in listing and "Password changed" in listing and "Sent" in listing
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


def test_send_mail_prints_what_it_did(app, runner, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL_SET", True)
    queue()
    queue("gone@example.org")
    smtp_server.refuse("gone@example.org")

    result = runner.invoke(args=["send-mail"])

    assert result.exit_code == 0, result.output
    # What it printed (stdout); the refusal is also logged, at ERROR, on stderr.
    assert result.stdout == "sent 1, retrying 0, failed 1\n"
    assert runner.invoke(args=["send-mail"]).stdout == "sent 0, retrying 0, failed 0\n"


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
    assert lines[0] == f"No MAIL_SERVER set: mail is written to {tmp_path / 'mail'}/, not sent.\n"
    assert lines[1].startswith("Sending mail every 0.2 s")
    assert rest.rstrip().endswith("Stopped.")
    assert (tmp_path / "mail" / f"{message.id}.eml").exists()
    assert row(message).status == "sent"


def test_only_a_failed_message_is_sent_again(make, smtp_server):
    message = queue()
    manager = make.manager()

    with pytest.raises(NotAllowed):
        mailbox.retry(message, manager)  # pending: it goes out anyway
    failed = queue(status="failed")
    with pytest.raises(NotAllowed):
        mailbox.retry(failed, make.applicant())
    mailbox.retry(failed, manager)
    db.session.commit()
    assert row(failed).status == "pending"


# --- disabled accounts, single-use links, lost claims ------------------------------------


def disable(user: User) -> None:
    user.enabled = False
    db.session.commit()


def test_an_account_disabled_after_its_message_was_queued_receives_nothing(
        client, make, smtp_server, deliver):
    applicant = make.applicant()
    notice = queue(applicant)
    reset = queue(applicant, kind="password_reset")
    other = queue("someone@example.org")
    disable(applicant)

    [received] = deliver()

    assert received["To"] == "someone@example.org" and row(other).status == "sent"
    assert smtp_server.envelopes == [("vouchers@localhost", ["someone@example.org"])]
    for message in (notice, reset):
        assert (row(message).status, row(message).last_error) == ("failed", DISABLED)
    assert "just changed" in row(notice).body_text
    assert row(reset).body_text == row(reset).body_html == BLANKED  # its link is gone too

    # Sent again from the Mail page while the account is still disabled: refused, clearly.
    login(client, make.manager())
    page = client.get(f"/manage/mailbox/{notice.id}").get_data(as_text=True)
    assert "Not sent: the account was disabled." in page
    assert "disabled accounts receive no mail: enable the account first" in page
    assert "<button type=\"submit\">Retry" not in page
    response = client.post(f"/manage/mailbox/{notice.id}/retry")
    assert response.status_code == 422
    assert "disabled accounts receive no mail" in response.get_data(as_text=True)
    assert row(notice).status == "failed"
    assert deliver(now=utcnow() + timedelta(days=1)) == []

    # Enabled again: the notice can go; the reset's link was removed, a new one is asked for.
    applicant.enabled = True
    db.session.commit()
    assert client.post(f"/manage/mailbox/{notice.id}/retry").status_code == 303
    refused = client.post(f"/manage/mailbox/{reset.id}/retry")
    assert refused.status_code == 422
    assert "ask for a new link instead" in refused.get_data(as_text=True)
    [received] = deliver()
    assert received["Message-ID"] == notice.message_id
    assert row(reset).status == "failed"


def test_a_disabled_account_is_checked_when_its_message_goes_not_when_it_was_queued(
        make, smtp_server, deliver):
    """Waiting for a retry while the account was disabled, then enabled: it goes out."""
    applicant = make.applicant()
    message = queue(applicant)
    smtp_server.stop()
    deliver()
    smtp_server.start()
    disable(applicant)
    applicant.enabled = True
    db.session.commit()

    [received] = deliver(now=utcnow() + timedelta(minutes=2))

    assert received["To"] == applicant.email and row(message).status == "sent"


def test_a_single_use_link_that_failed_leaves_the_database_and_is_not_sent_again(
        app, client, make, smtp_server, deliver, monkeypatch):
    refused = queue(kind="password_reset")
    smtp_server.refuse(TO)
    assert deliver() == []
    failed = row(refused)
    assert failed.status == "failed" and "550" in failed.last_error
    assert failed.body_text == failed.body_html == BLANKED
    # After the last attempt too.
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 1)
    smtp_server.stop()
    gave_up = queue("later@example.org", kind="password_reset")
    deliver()
    assert (row(gave_up).status, row(gave_up).body_text) == ("failed", BLANKED)
    smtp_server.start()
    smtp_server.refused.clear()

    login(client, make.manager())
    page = client.get(f"/manage/mailbox/{refused.id}").get_data(as_text=True)
    assert "ask for a new link instead" in page and "<button type=\"submit\">Retry" not in page
    response = client.post(f"/manage/mailbox/{refused.id}/retry")
    assert response.status_code == 422
    assert "held a single-use link" in response.get_data(as_text=True)
    assert deliver(now=utcnow() + timedelta(days=1)) == []
    assert smtp_server.messages == []


def test_a_sender_that_lost_its_claim_during_the_send_records_nothing(
        app, smtp_server, deliver, monkeypatch, caplog):
    """The claim ran out while the server was slow, and another sender took the row over:
    the first one's "sent" must not overwrite the second one's claim."""
    message = queue()
    claim = mail_sender._claim
    takeovers = []

    def claim_then_lose_it(outbox_id, moment):
        claimed = claim(outbox_id, moment)
        later = moment + mail_sender._lease() + timedelta(seconds=1)
        takeovers.append(claim(outbox_id, later))  # another sender, once the lease ran out
        return claimed

    monkeypatch.setattr(mail_sender, "_claim", claim_then_lose_it)
    with caplog.at_level("WARNING"):
        run = deliver_due()

    assert str(run) == "sent 0, retrying 0, failed 0"
    assert len(smtp_server.messages) == 1  # delivered, but the record is the other's
    held = row(message)
    assert (held.status, held.attempts, held.sent_at) == ("sending", 2, None)
    assert held.claimed_until == takeovers[0].claimed_until
    assert "the claim ran out before the outcome (sent) was recorded" in caplog.text


def test_the_claim_outlasts_many_smtp_timeouts(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 60)
    monkeypatch.setitem(app.config, "MAIL_CLAIM_SECONDS", 100)
    assert mail_sender._lease() == timedelta(seconds=1200)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 30)
    monkeypatch.setitem(app.config, "MAIL_CLAIM_SECONDS", 600)
    assert mail_sender._lease() == timedelta(seconds=600)


# --- settings that would lose mail or send dead links --------------------------------------


def settings(monkeypatch, tmp_path, **environ) -> dict:
    for name in ("MAIL_SERVER", "MAIL_BACKEND", "MAIL_TIMEOUT", "MAIL_CLAIM_SECONDS",
                 "BASE_URL", "MAIL_FOLDER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return mail_settings(str(tmp_path))


def test_the_settings_say_where_mail_goes_and_keep_the_timeout_below_the_claim(
        monkeypatch, tmp_path):
    development = settings(monkeypatch, tmp_path)
    assert development["MAIL_BACKEND"] == "file"
    assert development["MAIL_FILE_PATH"] == str(tmp_path / "mail")
    assert (development["BASE_URL"], development["BASE_URL_SET"]) == (DEFAULT_BASE_URL, False)
    assert (development["MAIL_TIMEOUT"], development["MAIL_CLAIM_SECONDS"]) == (30, 600)

    production = settings(monkeypatch, tmp_path, MAIL_SERVER="smtp.example.org",
                          BASE_URL="https://grants.example.org", MAIL_TIMEOUT="60",
                          MAIL_CLAIM_SECONDS="300")
    assert production["MAIL_BACKEND"] == "smtp"
    assert (production["BASE_URL"], production["BASE_URL_SET"]) == (
        "https://grants.example.org", True)
    assert production["MAIL_CLAIM_SECONDS"] == 1200  # 20 timeouts, at least

    files = settings(monkeypatch, tmp_path, MAIL_SERVER="smtp.example.org",
                     MAIL_BACKEND="File", BASE_URL="", MAIL_TIMEOUT="0")
    assert files["MAIL_BACKEND"] == "file"
    assert (files["BASE_URL"], files["BASE_URL_SET"]) == (DEFAULT_BASE_URL, False)
    assert files["MAIL_TIMEOUT"] == 1


def test_send_mail_says_when_mail_goes_into_files(app, runner, files, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    message = queue()

    result = runner.invoke(args=["send-mail"])

    assert result.exit_code == 0, result.output
    assert result.stderr == f"No MAIL_SERVER set: mail is written to {files}/, not sent.\n"
    assert result.stdout == "sent 1, retrying 0, failed 0\n"
    assert (files / f"{message.id}.eml").exists()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.org")
    assert runner.invoke(args=["send-mail"]).stderr == (
        f"MAIL_BACKEND=file: mail is written to {files}/, not sent to smtp.example.org.\n")


@pytest.mark.parametrize("config, expected", [
    ({}, "BASE_URL is not set, so every link in the mail would point at "
         "http://127.0.0.1:5000. Set BASE_URL to the site's public address"),
    ({"MAIL_SERVER": ""}, "MAIL_BACKEND=smtp needs MAIL_SERVER"),
    ({"MAIL_BACKEND": "console", "BASE_URL_SET": True}, "MAIL_BACKEND is 'console'"),
])
def test_send_mail_refuses_to_start_with_settings_that_lose_mail_or_kill_links(
        app, runner, smtp_server, monkeypatch, config, expected):
    monkeypatch.setitem(app.config, "BASE_URL_SET", False)
    for name, value in config.items():
        monkeypatch.setitem(app.config, name, value)
    message = queue()

    for args in (["send-mail"], ["send-mail", "--loop"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert result.stderr.startswith(f"Not sending mail: {expected}")
    assert row(message).status == "pending" and smtp_server.messages == []


@pytest.mark.parametrize("config", [{"BASE_URL_SET": True},
                                    {"BASE_URL": "https://grants.example.org"}])
def test_send_mail_sends_once_base_url_is_set(app, runner, smtp_server, monkeypatch, config):
    monkeypatch.setitem(app.config, "BASE_URL_SET", False)
    for name, value in config.items():
        monkeypatch.setitem(app.config, name, value)
    queue()

    result = runner.invoke(args=["send-mail"])

    assert (result.exit_code, result.output) == (0, "sent 1, retrying 0, failed 0\n")
    assert len(smtp_server.messages) == 1


# --- the Mail page keeps single-use links to their own recipient ---------------------------


def test_the_mail_page_shows_a_single_use_link_only_to_the_manager_it_is_for(
        client, make, files):
    applicant, manager, colleague = make.applicant(), make.manager(), make.manager()
    for_applicant = queue(applicant, kind="password_reset")
    invitation = queue(colleague.email.upper(), kind="password_reset")  # a bare address
    own = queue(manager, kind="password_reset")
    notice = queue(applicant)
    assert str(deliver_due()) == "sent 4, retrying 0, failed 0"
    login(client, manager)

    for message in (for_applicant, invitation):
        page = " ".join(client.get(f"/manage/mailbox/{message.id}").get_data(as_text=True)
                        .split())
        assert "/account/reset/single-use-token" not in page and "<iframe" not in page
        assert (f"This message holds a single-use link for {message.to_address}, so only "
                "its headers are shown here; it is kept in "
                f"<code>{files / f'{message.id}.eml'}</code> on the server.") in page
        assert "Reset your password" in page and message.message_id.strip("<>") in page
        # The developer finds the link in the file.
        assert RESET_LINK in (files / f"{message.id}.eml").read_text()
    for message in (own, notice):
        page = client.get(f"/manage/mailbox/{message.id}").get_data(as_text=True)
        assert "<iframe sandbox" in page and "single-use link for" not in page
    assert RESET_LINK in client.get(f"/manage/mailbox/{own.id}").get_data(as_text=True)
    # The colleague sees the link meant for them.
    login(client, colleague)
    assert RESET_LINK in client.get(f"/manage/mailbox/{invitation.id}").get_data(as_text=True)
    assert RESET_LINK not in client.get(f"/manage/mailbox/{own.id}").get_data(as_text=True)
