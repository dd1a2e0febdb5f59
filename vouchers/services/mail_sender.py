"""Delivering the outbox: the rows services/outbox.py queued go out over SMTP, or into files.

``deliver_due`` runs outside any request (``flask --app vouchers send-mail``, cli_mail.py).
For each due row it

1. claims the row with a conditional UPDATE (pending, or "sending" whose claim ran out
   because a sender crashed -> sending until now + a lease, one more attempt) and commits
   the claim at once: two senders never both win a row, and SQLite's write lock is never
   held while the mail server is talked to;
2. builds the message with Flask-Mailman (plain text with an HTML alternative; the row's
   Message-ID, so a retry is the same message for the recipient's mail programs);
3. sends it, then records the outcome in a second short transaction: sent; or back to
   pending after a growing delay (the server is down or answers "try later"); or failed
   (the server refused this message for good, or the last attempt failed). A manager may
   send a failed message again from the mailbox page (services/mailbox.py).

A row whose recipient's account was disabled after it was queued is not sent: it fails
with "Not sent: the account was disabled." A sensitive row (it holds a single-use link)
loses its bodies once it is sent or has failed for good, and a blanked one is never sent
again (services/mailbox.retry says to ask for a new link).

Delivery is at least once, not exactly once: a sender that dies between the server's
"accepted" and step 3 leaves the row "sending"; when the lease ends it is sent again,
with the same Message-ID. Two senders running at the same time never send a row twice:
the lease is many SMTP timeouts long (config.CLAIM_PER_TIMEOUT), so a sender that still
waits for the server still holds its claim; should it not (the outcome is recorded only
while the claim is its own), a warning is logged and the other sender's record stands.

In development (no MAIL_SERVER, or MAIL_BACKEND=file; config.mail_settings) each message
is written to ``<MAIL_FILE_PATH>/<outbox id>.eml`` instead, and the mailbox page shows it,
except the bodies of a sensitive message to someone other than the manager looking
(services/mailbox.file_copy).

This module commits (tests/test_boundary.py lists it): a claim must be committed before
the network call, which no request boundary or CLI wrapper around it could do.
"""

from __future__ import annotations

import os
import smtplib
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import or_, select, update

from ..config import CLAIM_PER_TIMEOUT
from ..extensions import db, mail
from ..models import OutboxMessage, User
from ..models.base import utcnow
from .transaction import atomic

# What a sensitive message's bodies become once it is sent or failed for good: they held
# a single-use link (a password reset), which a copy of the database must not hand out.
BLANKED = "[removed: it held a single-use link]"
DISABLED = "Not sent: the account was disabled."
_ERROR_LENGTH = 1000


@dataclass
class SendResult:
    """What one run of the sender did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.retrying + self.failed

    def __str__(self) -> str:
        return f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}"


@dataclass(frozen=True)
class _Claimed:
    """A claimed row's fields, read with the claim: nothing is read during the send."""

    id: int
    to_address: str
    subject: str
    body_text: str
    body_html: str
    message_id: str
    sensitive: bool
    attempts: int
    # The recipient's account is disabled: the row fails without being sent.
    disabled: bool
    claimed_until: datetime


@dataclass(frozen=True)
class _Outcome:
    status: str  # sent, retry or failed
    reason: str = ""
    # The server (not this message) is the trouble: the rest waits for the next run.
    stop: bool = False


# --- settings ------------------------------------------------------------------------


def _seconds(name: str, default: int) -> timedelta:
    return timedelta(seconds=int(current_app.config.get(name, default)))


def _lease() -> timedelta:
    """How long a claim holds: well past the SMTP timeouts of one message.

    config.mail_settings raises MAIL_CLAIM_SECONDS to CLAIM_PER_TIMEOUT x MAIL_TIMEOUT;
    enforced here too, for settings put into the config by other means.
    """
    floor = timedelta(seconds=CLAIM_PER_TIMEOUT * int(current_app.config.get("MAIL_TIMEOUT") or 30))
    return max(_seconds("MAIL_CLAIM_SECONDS", 600), floor)


def max_attempts() -> int:
    return int(current_app.config.get("MAIL_MAX_ATTEMPTS", 12))


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: doubling from the base, capped."""
    config = current_app.config
    base = int(config.get("MAIL_RETRY_BASE_SECONDS", 60))
    ceiling = int(config.get("MAIL_RETRY_MAX_SECONDS", 6 * 3600))
    # In whole seconds (Python's ints do not overflow, timedelta's would).
    return timedelta(seconds=min(base * 2 ** max(0, attempts - 1), ceiling))


def keeps_files() -> bool:
    """Mail goes into files (development): the mailbox page may show the bodies."""
    return current_app.config.get("MAIL_BACKEND") == "file"


def file_path(outbox_id: int) -> Path:
    return Path(current_app.config["MAIL_FILE_PATH"]) / f"{int(outbox_id)}.eml"


# --- delivering ----------------------------------------------------------------------


def _due(now: datetime):
    """Rows the sender takes: waiting and due, or claimed by a sender that stopped."""
    waiting = (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now)
    stalled = (OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now)
    # Digest rows wait for the recipient's daily digest (services/digests), not for us.
    return OutboxMessage.digest.is_(False) & or_(waiting, stalled)


def deliver_due(now: datetime | None = None, limit: int = 100) -> SendResult:
    """Send up to ``limit`` due messages; commits each claim and each outcome.

    ``now`` (tests pass it forward instead of waiting) fixes the clock of the whole run.
    """
    result = SendResult()
    ids = list(db.session.scalars(
        select(OutboxMessage.id).where(_due(now or utcnow()))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))
    sender = _Sender()
    try:
        for outbox_id in ids:
            moment = now or utcnow()
            claimed = _claim(outbox_id, moment)
            if claimed is None:  # another sender took it first
                continue
            outcome = (_Outcome("failed", DISABLED) if claimed.disabled
                       else sender.send(claimed))
            _record(claimed, outcome, moment, result)
            if outcome.stop:
                break
    finally:
        sender.close()
    return result


def _claim(outbox_id: int, moment: datetime) -> _Claimed | None:
    until = moment + _lease()
    with atomic():
        won = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, _due(moment))
            .values(status="sending", claimed_until=until, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        row = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.to_address, OutboxMessage.subject,
                   OutboxMessage.body_text, OutboxMessage.body_html, OutboxMessage.message_id,
                   OutboxMessage.sensitive, OutboxMessage.attempts,
                   User.enabled.is_(False).label("disabled"))
            .outerjoin(User, User.id == OutboxMessage.user_id)
            .where(OutboxMessage.id == outbox_id)).one() if won else None
    db.session.commit()  # the claim stands before the mail server is asked anything
    return _Claimed(*row, claimed_until=until) if row is not None else None


def _record(claimed: _Claimed, outcome: _Outcome, moment: datetime,
            result: SendResult) -> None:
    reason = outcome.reason[:_ERROR_LENGTH]
    if outcome.status == "sent":
        values = {"status": "sent", "sent_at": moment}
        if claimed.sensitive:
            values |= {"body_text": BLANKED, "body_html": BLANKED}
    elif outcome.status == "failed" or claimed.attempts >= max_attempts():
        values = {"status": "failed", "last_error": reason}
        if claimed.sensitive:  # its link stays out of the database; a new one is asked for
            values |= {"body_text": BLANKED, "body_html": BLANKED}
    else:
        values = {"status": "pending", "last_error": reason,
                  "next_attempt_at": moment + retry_delay(claimed.attempts)}
    with atomic():
        mine = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == claimed.id, OutboxMessage.status == "sending",
                   OutboxMessage.claimed_until == claimed.claimed_until)
            .values(claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
    db.session.commit()
    log = current_app.logger
    if not mine:
        # Another sender took the row over (the claim ran out while this one waited for
        # the server): its record stands, and it may send the message a second time.
        log.warning("mail %s: the claim ran out before the outcome (%s) was recorded; "
                    "another sender holds it now (MAIL_CLAIM_SECONDS too short for "
                    "MAIL_TIMEOUT?)", claimed.id, outcome.status)
        return
    if values["status"] == "sent":
        result.sent += 1
        log.info("mail %s sent to %s", claimed.id, claimed.to_address)
    elif values["status"] == "failed":
        result.failed += 1
        log.error("mail %s to %s failed after %s attempts: %s", claimed.id,
                  claimed.to_address, claimed.attempts, reason)
    else:
        result.retrying += 1
        log.warning("mail %s to %s waits until %s: %s", claimed.id, claimed.to_address,
                    values["next_attempt_at"].isoformat(timespec="seconds"), reason)


def build_message(claimed: _Claimed, connection=None) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=claimed.subject, body=claimed.body_text,
        from_email=current_app.config["MAIL_DEFAULT_SENDER"], to=[claimed.to_address],
        headers={"Message-ID": claimed.message_id}, connection=connection)
    message.attach_alternative(claimed.body_html, "text/html")
    return message


class _Sender:
    """One run's way out: an SMTP connection opened at the first message and kept for
    the run, or the folder of files in development."""

    def __init__(self):
        self.files = keeps_files()
        self.connection = None

    def _connect(self):
        """The backend with the settings as they are now.

        Flask-Mailman copies the MAIL_* settings once, in init_app; its backends read
        that copy. Passing them here from current_app.config lets a test (or an operator's
        changed environment, at the next start) point the sender at another server.
        """
        if self.connection is None:
            config = current_app.config
            self.connection = mail.get_connection(
                backend=config.get("MAIL_BACKEND") or "smtp", host=config["MAIL_SERVER"],
                port=int(config["MAIL_PORT"]), username=config.get("MAIL_USERNAME"),
                password=config.get("MAIL_PASSWORD"),
                use_tls=bool(config.get("MAIL_USE_TLS")),
                use_ssl=bool(config.get("MAIL_USE_SSL")),
                # Each socket operation's limit, well below the claim (_lease): a sender
                # waiting on a slow server keeps its claim until the outcome is recorded.
                timeout=config.get("MAIL_TIMEOUT"))
            # Opened here, so send_messages keeps it open for the rest of the run.
            self.connection.open()
        return self.connection

    def send(self, claimed: _Claimed) -> _Outcome:
        try:
            if self.files:
                _write_file(claimed.id, build_message(claimed))
            elif not build_message(claimed, self._connect()).send():
                return _Outcome("failed", "The message has no recipient address.")
            return _Outcome("sent")
        except smtplib.SMTPRecipientsRefused as exc:
            answers = list(exc.recipients.values())
            reason = "; ".join(f"{code} {_text(text)}" for code, text in answers)
            if answers and all(code >= 500 for code, _ in answers):
                return _Outcome("failed", f"The mail server refused the address: {reason}")
            return _Outcome("retry", f"The mail server deferred the address: {reason}")
        except smtplib.SMTPDataError as exc:
            reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                return _Outcome("failed", f"The mail server refused the message: {reason}")
            return _Outcome("retry", f"The mail server deferred the message: {reason}")
        except smtplib.SMTPResponseException as exc:
            # Connecting, greeting, logging in or the sender address: the server's or the
            # settings' trouble, not this message's. Retried, so that once it is put right
            # every waiting message goes out by itself.
            return self._down(f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}")
        except OSError as exc:  # refused or lost connections, timeouts, a full disk
            return self._down(f"{type(exc).__name__}: {exc}")
        except (ValueError, UnicodeError) as exc:  # a message that cannot be built
            return _Outcome("failed", f"The message cannot be built: {exc}")
        except Exception as exc:  # noqa: BLE001 - one odd message must not stop the sender
            current_app.logger.exception("mail %s: unexpected error", claimed.id)
            return _Outcome("retry", f"{type(exc).__name__}: {exc}")

    def _down(self, reason: str) -> _Outcome:
        self.close()
        return _Outcome("retry", reason, stop=True)

    def close(self) -> None:
        if self.connection is not None:
            with suppress(OSError):
                self.connection.close()
            self.connection = None


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _write_file(outbox_id: int, message: EmailMultiAlternatives) -> None:
    """Write the message, as Flask-Mailman built it, to ``<MAIL_FILE_PATH>/<id>.eml``.

    Written here rather than by Flask-Mailman's file backend: that one appends every
    message of a connection to one timestamped .log file with separator lines, while the
    mailbox page needs each message alone, as a standard .eml named by its outbox id.
    Written beside and renamed, so the page never reads half a file.
    """
    path = file_path(outbox_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".eml.part")
    part.write_bytes(message.message().as_bytes())
    os.replace(part, path)
