"""What a user signs in with besides a password: API tokens, TOTP recovery codes.

Tokens and recovery codes are random and long, so one SHA-256 of each is stored (a slow
password hash buys nothing against a 256-bit secret and would cost every API call);
a copy of the database hands out no working credential.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import str200, timestamp, utcnow
from .people import User

TOKEN_SCOPES = ("read", "write")


class ApiToken(db.Model):
    """A personal access token: the API acts as its owner, within its scope, until it
    expires or is revoked. Shown once at creation; only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str200]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, shown on the account page to tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    expires_at: Mapped[timestamp]
    last_used_at: Mapped[timestamp | None]
    revoked_at: Mapped[timestamp | None]

    user: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(f"scope IN {TOKEN_SCOPES!r}", name="scope_known"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    )

    @property
    def writes(self) -> bool:
        return self.scope == "write"

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix} {self.scope} of user {self.user_id}>"


class RecoveryCode(db.Model):
    """One of the ten single-use codes that stand in for the authenticator app."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    used_at: Mapped[timestamp | None]

    __table_args__ = (Index("ix_recovery_codes_user_hash", "user_id", "code_hash"),)
