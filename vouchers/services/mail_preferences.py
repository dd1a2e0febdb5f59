"""A user's choice of how the non-urgent e-mails reach them: each at once, or collected in
one daily e-mail (services/digests.py). Urgent ones (account links, deadlines, returned
applications and reports) always go at once: vouchers/mail_kinds.py says which.
"""

from __future__ import annotations

from flask_babel import gettext
from sqlalchemy import update

from .. import mail_kinds
from ..extensions import db
from ..models import OutboxMessage, User
from .transaction import atomic

# The digest itself is never one of what may wait for the digest.
_NEVER_LISTED = ("digest",)


def describe(kind: mail_kinds.MailKind) -> str:
    """What ``kind`` is, in the reader's language (its ``about``; every kind listed has
    one, the key as words is only a last resort)."""
    return gettext(kind.about) if kind.about else kind.key.replace("_", " ")


def kinds_for(user: User) -> tuple[list[str], list[str]]:
    """What ``user`` may receive, described: what may wait for the daily digest, and what
    always goes at once (the settings page)."""
    audiences = {"any", user.role}
    mine = [k for k in mail_kinds.KINDS.values()
            if k.audience in audiences and k.key not in _NEVER_LISTED]
    return ([describe(k) for k in mine if not k.urgent],
            [describe(k) for k in mine if k.urgent])


def set_digest(user: User, digest: bool) -> int:
    """Save the choice. Choosing immediate mail sends what waits for a digest at once;
    how many messages that releases."""
    with atomic():
        user.mail_digest = bool(digest)
        if digest:
            return 0
        o = OutboxMessage
        released = db.session.execute(
            update(o).where(o.user_id == user.id, o.status == "pending", o.digest.is_(True))
            .values(digest=False).execution_options(synchronize_session=False)).rowcount
    return released
