"""Invitations for evaluators and managers, and failed logins (for throttling)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import str200, timestamp, utcnow
from .people import User

INVITED_ROLES = ("evaluator", "manager")


class Invitation(db.Model):
    """A manager's invitation: a single-use, expiring link that sets the new user's password.

    Only a SHA-256 hash of the token is stored, so a copy of the database does not hand
    out working links.
    """

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str200]
    role: Mapped[str] = mapped_column(String(20))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    expires_at: Mapped[timestamp]
    used_at: Mapped[timestamp | None]
    revoked_at: Mapped[timestamp | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The partner agency the invited manager or evaluator works for; accepting copies it
    # to the new account (a partner's manager then sees that partner's SMEs only).
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    # The language the manager chose for the invitation (vouchers/i18n.py): its mail is
    # written in it, and the new account starts in it. None: English.
    language: Mapped[str | None] = mapped_column(String(5))

    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        CheckConstraint(f"role IN {INVITED_ROLES!r}", name="role_invitable"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        CheckConstraint("used_at IS NULL OR user_id IS NOT NULL", name="used_has_user"),
    )

    def __repr__(self) -> str:
        return f"<Invitation {self.email} {self.role}>"


class FailedLogin(db.Model):
    """One failed login, counted per account and per address to throttle guessing.

    Kept in the database rather than in process memory because several workers on
    several machines serve the app and must all see the same count.
    """

    __tablename__ = "failed_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lower-cased e-mail as typed: an address without an account is throttled too, so
    # the answer does not reveal which accounts exist.
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[timestamp] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_failed_logins_email_at", "email", "attempted_at"),
        Index("ix_failed_logins_address_at", "address", "attempted_at"),
        Index("ix_failed_logins_attempted_at", "attempted_at"),
    )



class KnownAddress(db.Model):
    """An address a user has logged in from: failed guesses by strangers elsewhere do not
    throttle the account's owner here."""

    __tablename__ = "known_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(64))
    last_seen: Mapped[timestamp] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "address", name="uq_known_addresses_user_address"),
    )


class ChangeRecord(db.Model):
    """Append-only: who changed what outside an application's lifecycle, when and why.

    A manager's correction of a company's details (with each field's old and new value),
    an account disabled, enabled or unlocked. Applications keep their own AuditRecord.
    """

    __tablename__ = "change_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "organisation" or "user", and the id of that row.
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[timestamp] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    # field -> [old, new], as text.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_change_records_subject", "subject_type", "subject_id", "id"),
    )


@event.listens_for(ChangeRecord, "before_update")
@event.listens_for(ChangeRecord, "before_delete")
def _changes_are_append_only(mapper, connection, target):
    raise RuntimeError("change records are append-only")
