"""The outbox (every e-mail, written with the change that causes it) and account tokens."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import timestamp, utcnow
from .people import User

# pending: waits for the sender (or for its retry time); sending: a sender has claimed it
# until claimed_until; sent: handed to the SMTP server; failed: gave up after the last
# retry, refused for good by the server, or not sent because the recipient's account was
# disabled (last_error says which; a manager may retry it, unless its account is still
# disabled or its single-use link was removed); digested: carried by the recipient's daily
# digest.
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "digested")
TOKEN_PURPOSES = ("reset", "verify", "email_change")


class OutboxMessage(db.Model):
    """One e-mail, rendered when queued and added in the transaction of its cause.

    A rolled-back action therefore queues nothing, and a committed one cannot be forgotten
    by a crash between the commit and the sending: the sender (services/mail_sender.py)
    delivers what is due from here.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The message kind (vouchers/mail_kinds.py): its templates, urgency and sensitivity.
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"),
                                                       index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # The RFC 5322 Message-ID, fixed when queued: a retry sends the same message.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    # Reminders and digests carry a key saying what they are about (a deadline, a day):
    # a second one with the same key is never queued.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    # Waits for the recipient's daily digest instead of going out on its own.
    digest: Mapped[bool] = mapped_column(default=False)
    # Holds a single-use link: its bodies are blanked once it is sent or has failed for
    # good, so a copy of the database does not hand out working links.
    sensitive: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[timestamp] = mapped_column(default=utcnow)
    claimed_until: Mapped[timestamp | None]
    sent_at: Mapped[timestamp | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    # The digest message that carried this one (status digested).
    digest_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        CheckConstraint(f"status IN {OUTBOX_STATUSES!r}", name="status_known"),
        CheckConstraint("status != 'sent' OR sent_at IS NOT NULL", name="sent_has_time"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_digest", "digest", "status", "user_id"),
        # The hourly limits of account notices count them per kind and address.
        Index("ix_outbox_messages_kind_address", "kind", "to_address", "created_at"),
    )

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} to {self.to_address} {self.status}>"


class AccountToken(db.Model):
    """A single-use, expiring link sent by e-mail: a password reset, the verification of
    a new account's address, or the confirmation of a changed address.

    Only a SHA-256 hash of the token is stored (like invitations).
    """

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address to confirm (purpose email_change).
    new_email: Mapped[str | None] = mapped_column(String(254))
    # The address key of the request (auth/throttle.py), for the throttle.
    requested_from: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    expires_at: Mapped[timestamp]
    used_at: Mapped[timestamp | None]

    user: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(f"purpose IN {TOKEN_PURPOSES!r}", name="purpose_known"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint("purpose != 'email_change' OR new_email IS NOT NULL",
                        name="email_change_has_address"),
        Index("ix_account_tokens_user_purpose", "user_id", "purpose", "created_at"),
    )
