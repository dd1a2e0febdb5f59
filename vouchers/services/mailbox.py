"""The managers' mailbox: the outbox page, a message as written to its file, sending a
failed message again.

The sender (services/mail_sender.py) delivers the outbox; this module reads it for the
mailbox page (vouchers/manager/mailbox.py) and queues a failed message again. It never
commits: the request boundary does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import policy as email_policy
from email.parser import BytesParser

from flask import current_app
from flask_babel import LazyString
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import mail_kinds, policy
from ..extensions import db
from ..models import OutboxMessage, User
from ..models.base import utcnow
from .errors import ConcurrentChange, InvalidInput
from .mail_sender import BLANKED, file_path, keeps_files
from .transaction import atomic

MAILBOX_PER_PAGE = 50
# What the Mail page calls each kind: its label in vouchers/mail_kinds.py (a manager's
# words; the settings page uses the recipient's, ``about``).
KIND_LABELS = {key: kind.label for key, kind in mail_kinds.KINDS.items()}


def is_blanked(message: OutboxMessage) -> bool:
    return bool(message.sensitive and message.body_text == BLANKED)


def resend_problem(message: OutboxMessage) -> str | None:
    """Why a failed message cannot be sent again, or None. The mailbox page shows it in
    place of the Retry button; ``retry`` refuses with it."""
    if message.user is not None and not message.user.enabled:
        return _("The account of %(email)s is disabled, and disabled accounts receive no "
                 "mail: enable the account first, then send the message again.",
                 email=message.to_address)
    if is_blanked(message):
        return _("This message held a single-use link, removed when it failed, so it cannot "
                 "be sent again: ask for a new link instead (a new password reset, "
                 "confirmation link or invitation).")
    return None


def retry(message: OutboxMessage, by: User, now: datetime | None = None) -> None:
    """Send a failed message again, now, with the full series of attempts."""
    policy.ensure(policy.can_retry_mail(by, message),
                  "Only a programme manager may send a failed message again.")
    problem = resend_problem(message)
    if problem:
        raise InvalidInput(problem)
    with atomic():
        again = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=now or utcnow(),
                    claimed_until=None)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        if not again:
            raise ConcurrentChange(_("This message is no longer failed (a colleague sent it "
                                     "again meanwhile); reload the page."))
    db.session.expire(message)
    current_app.logger.info("mail %s (%s to %s) queued again by %s", message.id, message.kind,
                            message.to_address, by.email)


def kind_label(kind: str) -> str:
    """What the Mail page calls a kind; a kind no longer in the registry reads as its key."""
    label = KIND_LABELS.get(kind)
    return _(label) if label else kind.replace("_", " ").capitalize()


def kind_choices() -> list[tuple[str, LazyString]]:
    """Every kind with its label, in the registry's order (accounts, applications,
    messages, evaluators, digests). The labels are lazy: the filter form asks for them
    when the module is imported, and shows them in each reader's language."""
    return [(key, LazyString(kind_label, key)) for key in mail_kinds.KINDS]


def mailbox_page(*, status: str = "", kind: str = "", to: str = "", page: int = 1):
    """One page of the outbox, newest first, filtered by status, kind and a fragment of
    the recipient's address (any case; ``%`` and ``_`` match themselves).

    Newest by ``created_at``, the time the message was queued (then by id, for messages
    of the same instant). No index serves this order (the outbox's are for the sender:
    status and due time, digests, kind and address), so the database sorts the matching
    rows: fine for the few thousand messages a programme sends in a year. A much larger
    outbox would want an index on created_at (a migration) or an order by id alone.
    """
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(),
                                           OutboxMessage.id.desc())
    if status:
        query = query.where(OutboxMessage.status == status)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    if to.strip():
        query = query.where(func.lower(OutboxMessage.to_address)
                            .contains(to.strip().lower(), autoescape=True))
    return db.paginate(query, page=max(1, page), per_page=MAILBOX_PER_PAGE,
                       max_per_page=MAILBOX_PER_PAGE, error_out=False, count=True)


@dataclass(frozen=True)
class FileCopy:
    """A message as written to its file: its headers and its two parts.

    ``withheld``: the parts are left out (None), because they hold a single-use link for
    someone other than the viewer; ``path`` says where the file is.
    """

    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    path: str = ""
    withheld: bool = False


def addressed_to(message: OutboxMessage, user: User) -> bool:
    return message.user_id == user.id or message.to_address.lower() == user.email.lower()


def file_copy(message: OutboxMessage, viewer: User) -> FileCopy | None:
    """The message's .eml in development; None in production, or before it is written.

    The bodies of a sensitive message (a password reset, a confirmation link, an
    invitation) are shown only to the manager it is addressed to: any other manager
    could use the link to take over the account or the invitation. A developer reads
    them in the file.
    """
    if not keeps_files():
        return None
    path = file_path(message.id)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    parsed = BytesParser(policy=email_policy.default).parsebytes(raw)
    headers = [(name, str(parsed[name])) for name in ("From", "To", "Subject", "Date",
                                                      "Message-ID") if parsed[name]]
    if message.sensitive and not addressed_to(message, viewer):
        return FileCopy(headers=headers, text=None, html=None, path=str(path), withheld=True)
    text, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    return FileCopy(headers=headers, path=str(path),
                    text=text.get_content() if text is not None else None,
                    html=html.get_content() if html is not None else None)
