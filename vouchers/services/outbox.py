"""Queueing e-mail: a message is an outbox row added in the transaction of its cause.

``queue`` renders the kind's templates (vouchers/mail_kinds.py, templates/mail/) at once,
so what is sent is what was true when it happened, and adds the row inside the caller's
atomic(): a rolled-back action queues nothing. The sender (services/mail_sender.py)
delivers the rows later, outside any request.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import select

from .. import i18n, mail_kinds
from ..extensions import db
from ..jobs.runner import send_mail_after_commit
from ..links import external_url
from ..models import OutboxMessage, Programme, User
from ..models.base import utcnow
from .errors import ConstraintClash
from .transaction import atomic

DEDUPE_CONSTRAINT = "uq_outbox_messages_dedupe_key"


def _message_id() -> str:
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "vouchers.invalid"
    return f"<{secrets.token_hex(16)}@{domain}>"


def programme_name(application=None, call=None) -> str:
    """What a mail calls the programme: the application's or the call's, else
    PROGRAMME_NAME, else the newest programme's name (an invited evaluator learns who
    invites them)."""
    if application is not None:
        return application.call.programme.name
    if call is not None:
        return call.programme.name
    configured = current_app.config.get("PROGRAMME_NAME")
    if configured:
        return configured
    newest = db.session.scalar(select(Programme.name).order_by(Programme.id.desc()).limit(1))
    return newest or gettext("Voucher programme")  # the site's own name (base.html)


def render(kind: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of ``kind`` for ``context``."""
    spec = mail_kinds.get(kind)
    env = current_app.jinja_env
    # In the recipient's language, not the request's (vouchers/i18n.py); a subject's
    # catalogue entry is its whole Jinja source, placeholders included. A bare address
    # (an invitation's) has the language its sender chose for it.
    recipient = context.get("recipient")
    language = getattr(recipient, "language", None) or context.get("recipient_language")
    with force_locale(i18n.choose(language)):
        context = {"programme_name": programme_name(context.get("application"),
                                                     context.get("call")),
                   "link": external_url, **context}
        # A subject is plain text: Flask autoescapes templates without a file name, which
        # would turn "R&D" into "R&amp;D" in the header.
        subject_template = env.from_string(
            "{% autoescape false %}" + gettext(spec.subject) + "{% endautoescape %}")
        subject = " ".join(subject_template.render(context).split())[:300]
        text = render_template(f"mail/{kind}.txt", **context)
        html = render_template(f"mail/{kind}.html", **context)
    return subject, text, html


def queue(kind: str, *, to: User | str, context: dict[str, Any] | None = None,
          application=None, dedupe_key: str | None = None, account: User | None = None,
          now: datetime | None = None, language: str | None = None) -> OutboxMessage | None:
    """Queue one message of ``kind`` to a user (or a bare address) inside atomic().

    ``account`` names the user a message to a bare address is about (a link confirming
    their new address): the sender then holds it back should that account be disabled.
    ``language``: what a message to a bare address with no account is written in (an
    invitation's); a user's message is written in the user's own.
    Returns None, queuing nothing, when a message with the same ``dedupe_key`` exists or
    the user's account is disabled.
    """
    spec = mail_kinds.get(kind)
    user = to if isinstance(to, User) else account
    if user is not None and not user.enabled:
        return None
    address = to.email if isinstance(to, User) else str(to)
    context = {"recipient": user, "recipient_address": address, "application": application,
               "recipient_language": language, **(context or {})}
    # Asked before rendering: a reminder already queued costs one lookup, not three
    # templates (a concurrent twin still meets the unique key below).
    if dedupe_key is not None and db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    subject, text, html = render(kind, context)
    message = OutboxMessage(
        kind=kind, to_address=address, user_id=user.id if user is not None else None,
        application_id=application.id if application is not None else None,
        subject=subject, body_text=text, body_html=html, message_id=_message_id(),
        dedupe_key=dedupe_key, sensitive=spec.sensitive,
        digest=bool(user is not None and user.mail_digest and not spec.urgent),
        next_attempt_at=now or utcnow(), created_at=now or utcnow(),
    )
    try:
        with atomic():  # its own savepoint: a concurrent twin's clash undoes only this
            db.session.add(message)
    except ConstraintClash as exc:
        if exc.constraint == DEDUPE_CONSTRAINT:
            return None
        raise
    # With Redis, a worker sends it as soon as the cause commits (vouchers/jobs/runner.py);
    # without, `send-mail --loop` does, as before.
    send_mail_after_commit()
    return message
