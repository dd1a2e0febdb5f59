"""A user's choice of how the non-urgent e-mails reach them: each at once, or collected in
one daily e-mail (services/digests.py). Urgent ones (account links, deadlines, returned
applications and reports) always go at once: vouchers/mail_kinds.py says which.
"""

from __future__ import annotations

from sqlalchemy import update

from .. import mail_kinds
from ..extensions import db
from ..models import OutboxMessage, User
from .transaction import atomic

# What each kind is about, in the settings page's words (a kind not named here is shown
# by its key).
DESCRIPTIONS = {
    "verify_email": "confirming your e-mail address",
    "password_reset": "resetting your password",
    "invitation": "invitations",
    "email_change": "confirming a new e-mail address",
    "email_change_requested": "someone asked to change your e-mail address",
    "already_registered": "someone tried to register with your address",
    "email_changed": "your e-mail address was changed",
    "password_changed": "your password was changed",
    "submitted": "the receipt of a submitted application",
    "returned": "an application returned to you for changes",
    "awarded": "a voucher awarded",
    "rejected": "an application rejected",
    "waitlisted": "an application put on the reserve list",
    "report_returned": "a final report returned to you",
    "report_approved": "a final report approved",
    "payment_made": "a payment made",
    "report_due": "a final report's deadline",
    "message_to_applicant": "new messages from the programme",
    "message_to_managers": "new messages from applicants",
    "assigned": "new assignments",
    "review_due": "a review's deadline",
    "manager_digest": "the daily list of what needs action",
}
_NEVER_LISTED = ("digest",)


def describe(kind: mail_kinds.MailKind) -> str:
    return DESCRIPTIONS.get(kind.key, kind.key.replace("_", " "))


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
