"""Personal access tokens for the API: created and revoked on the account page.

A token is ``vt_`` + ``secrets.token_urlsafe(32)`` (256 bits); the database keeps its
SHA-256 hash (accounts.token_hash, as for mailed links), so a copy of the database
hands out no working token. It is shown once, when created. It acts as its owner with
the owner's permissions, narrowed by its scope: "read" tokens never change anything.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from ..extensions import db
from ..models import TOKEN_SCOPES, ApiToken, User
from ..models.base import utcnow
from .accounts import token_hash
from .errors import InvalidInput, NotAllowed
from .transaction import atomic

PREFIX = "vt_"
MAX_DAYS = 366
DEFAULT_DAYS = 90
# A token's last use is written at most this often, so reading does not mean writing.
TOUCH_EVERY = timedelta(minutes=10)


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def create(user: User, *, name: str, scope: str, days: int) -> tuple[ApiToken, str]:
    """A new token of ``user`` and its text, which is never stored and never shown again."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the token a name, so you know later what uses it."))
    if len(name) > 200:
        raise InvalidInput(_("A token's name has at most 200 characters."))
    if scope not in TOKEN_SCOPES:
        raise InvalidInput(_("A token reads only, or reads and writes."))
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput(_("A token lasts from 1 to %(days)s days.", days=MAX_DAYS))
    secret = new_secret()
    now = utcnow()
    with atomic():
        token = ApiToken(user_id=user.id, name=name, scope=scope,
                         token_hash=token_hash(secret), prefix=secret[:10], created_at=now,
                         expires_at=now + timedelta(days=days))
        db.session.add(token)
    return token, secret


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones included (the page
    shows their state)."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke(token: ApiToken, user: User) -> None:
    if token.user_id != user.id:
        raise NotAllowed("That token is not yours.")
    if token.revoked_at is None:
        with atomic():
            token.revoked_at = utcnow()


def revoke_all(user: User) -> None:
    """Every live token of ``user`` stops working (the account was disabled, say)."""
    with atomic():
        db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                                  ApiToken.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))


def is_live(token: ApiToken, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return token.revoked_at is None and token.expires_at > now


def authenticate(secret: str, now: datetime | None = None) -> ApiToken | None:
    """The live token whose text is ``secret``, if its owner's account is enabled."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    now = now or utcnow()
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_hash(secret))).first()
    if token is None or not is_live(token, now) or not token.user.enabled:
        return None
    return token


def needs_touch(token: ApiToken, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY


def touch(token: ApiToken, now: datetime | None = None) -> None:
    """Record that the token was used (the account page shows when). Inside atomic():
    on SQLite the request has read already, and a plain UPDATE would then be refused
    ("database is locked") when another request wrote meanwhile."""
    with atomic():
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id)
                           .values(last_used_at=now or utcnow()))
