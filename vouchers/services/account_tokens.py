"""Single-use, expiring links mailed to a user's address: password resets, the
verification of a new account's address and the confirmation of a changed address.

The link carries ``secrets.token_urlsafe(32)`` (256 bits); the database keeps only its
SHA-256 hash (AccountToken.token_hash), like invitations, so a copy of the database
hands out no working link. A link is used at most once: claiming it is a conditional
UPDATE (``used_at IS NULL AND expires_at > now``) whose row count says who won, so two
clicks at the same moment (or two workers) cannot both use it.

The flows that use these links, with their throttles, are in services/account_links.py;
this module also sends the mails of a registration (logins.register): the verification
link of a new account, or, for an address that has one, a notice to its owner.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update

from ..extensions import db
from ..formatting import LocaleText
from ..models import AccountToken, OutboxMessage, User
from ..models.base import utcnow
from . import outbox
from .accounts import token_hash
from .errors import DomainError, InvalidInput
from .transaction import atomic
from .wording import N_

RESET, VERIFY, EMAIL_CHANGE = "reset", "verify", "email_change"
# Seconds each kind of link works; the config may change them (PASSWORD_RESET_SECONDS...).
LIFETIMES = {
    RESET: ("PASSWORD_RESET_SECONDS", 60 * 60),
    VERIFY: ("EMAIL_VERIFY_SECONDS", 7 * 24 * 60 * 60),
    EMAIL_CHANGE: ("EMAIL_CHANGE_SECONDS", 24 * 60 * 60),
}
# What secrets.token_urlsafe makes (43 characters for 32 bytes), with room to spare.
TOKEN_TEXT = re.compile(r"[A-Za-z0-9_-]{1,100}")
# How often "Send the link again" works: once per 5 minutes, 5 times a day (the link
# mailed at registration counts).
VERIFY_RESEND_GAP = timedelta(minutes=5)
VERIFY_PER_DAY = 5
# Notices that an address was used to register, or to ask for a reset link without an
# account: at most this many an hour to one address.
NOTICES_PER_HOUR = 3


class LinkGone(DomainError):
    """The link is unknown, used, expired, or its account is disabled."""

    status = 410


@dataclass
class Link:
    """What a link's URL names: the secret it carries and its row (None if unknown)."""

    purpose: str
    token: str
    row: AccountToken | None

    @property
    def user(self) -> User | None:
        return self.row.user if self.row is not None else None


def lifetime(purpose: str) -> timedelta:
    name, default = LIFETIMES[purpose]
    return timedelta(seconds=int(current_app.config.get(name, default)))


def lifetime_text(purpose: str) -> LocaleText:
    """How long a link works, as a person says it ("1 hour", "7 days"), in the language
    of the moment it is written out: a page's, or a mail's recipient's (outbox.render
    renders under force_locale, after the caller made the context)."""
    return LocaleText(_lifetime_words, int(lifetime(purpose).total_seconds()))


def _lifetime_words(seconds: int) -> str:
    if seconds >= 86400 and seconds % 86400 == 0:
        return ngettext("%(count)s day", "%(count)s days", seconds // 86400,
                        count=seconds // 86400)
    if seconds >= 3600 and seconds % 3600 == 0:
        return ngettext("%(count)s hour", "%(count)s hours", seconds // 3600,
                        count=seconds // 3600)
    if seconds >= 60 and seconds % 60 == 0:
        return ngettext("%(count)s minute", "%(count)s minutes", seconds // 60,
                        count=seconds // 60)
    return ngettext("%(count)s second", "%(count)s seconds", seconds, count=seconds)


def issue(user: User, purpose: str, *, address: str = "", new_email: str | None = None,
          now: datetime | None = None) -> tuple[AccountToken, str]:
    """A new link for ``user`` (inside the caller's atomic()); returns the row and the
    secret, which is never stored."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = AccountToken(purpose=purpose, user_id=user.id, token_hash=token_hash(token),
                       new_email=new_email, requested_from=address[:64], created_at=now,
                       expires_at=now + lifetime(purpose))
    with atomic():
        db.session.add(row)
    return row, token


def find(token: str, purpose: str) -> Link | None:
    """The link ``token`` names; its row is None when no such link was ever made (or the
    token is of another purpose). None (the page is not found) for text no token has."""
    if not isinstance(token, str) or not TOKEN_TEXT.fullmatch(token):
        return None
    row = db.session.scalar(select(AccountToken).where(
        AccountToken.token_hash == token_hash(token), AccountToken.purpose == purpose))
    return Link(purpose, token, row)


ASK_AGAIN = {
    RESET: N_("Ask for a new link on the “Forgot your password?” page."),
    VERIFY: N_("Ask for a link on the “Forgot your password?” page: choosing your password "
               "through it confirms your address too."),
    EMAIL_CHANGE: N_("Log in and ask for the change again."),
}


def _gone(again: str) -> str:
    return _("This link no longer works: it was used already, or a newer link replaced it. "
             "%(what_to_do)s", what_to_do=again)


def problem(link: Link, now: datetime | None = None) -> str | None:
    """Why ``link`` does not work (a sentence saying what to do), or None."""
    now = now or utcnow()
    row = link.row
    again = _(ASK_AGAIN[link.purpose])
    if row is None:
        return _("This link is not valid: perhaps it was copied incompletely. %(what_to_do)s",
                 what_to_do=again)
    if not row.user.enabled:
        return _("This account is disabled. Ask a programme manager to enable it.")
    if link.purpose == VERIFY and row.user.email_verified_at is not None:
        return _("Your e-mail address is already confirmed: there is nothing more to do.")
    if row.used_at is not None:
        # Used, or retired by a newer link or a completed change: the row cannot tell.
        return _gone(again)
    if row.expires_at <= now:
        return _("This link has expired. %(what_to_do)s", what_to_do=again)
    return None


def claim(link: Link, now: datetime | None = None) -> User:
    """Use ``link`` up (inside the caller's atomic()); LinkGone if it does not work or
    someone used it a moment ago."""
    now = now or utcnow()
    reason = problem(link, now)
    if reason:
        raise LinkGone(reason)
    claimed = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == link.row.id, AccountToken.used_at.is_(None),
               AccountToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        # Used or retired a moment ago, by a concurrent request: the same words as
        # problem()'s, whichever of the two caught it.
        raise LinkGone(_gone(_(ASK_AGAIN[link.purpose])))
    db.session.expire(link.row, ["used_at"])
    return link.row.user


def retire(user: User, purpose: str, now: datetime | None = None) -> None:
    """Make the user's other unused links of ``purpose`` stop working."""
    now = now or utcnow()
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose,
               AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def issued_since(user: User, purpose: str, since: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(AccountToken).where(
        AccountToken.user_id == user.id, AccountToken.purpose == purpose,
        AccountToken.created_at > since))


def mailed_since(kind: str, address: str, since: datetime) -> int:
    """How many ``kind`` messages were queued to ``address`` (as written) since ``since``."""
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == kind, OutboxMessage.to_address == address,
        OutboxMessage.created_at > since))


# --- registering, and verifying a new account's address --------------------------------


def send_verification(user: User, address: str = "", now: datetime | None = None) -> None:
    """Mail ``user`` a link that confirms their address (inside the caller's atomic())."""
    now = now or utcnow()
    with atomic():
        row, token = issue(user, VERIFY, address=address, now=now)
        outbox.queue("verify_email", to=user, now=now, context={
            "token": token, "expires_at": row.expires_at, "lifetime": lifetime_text(VERIFY)})


def tell_owner_of_registration(owner: User, address: str = "",
                               now: datetime | None = None) -> None:
    """Someone registered with ``owner``'s address: mail the owner (not more than
    NOTICES_PER_HOUR an hour) instead of saying so on the page."""
    now = now or utcnow()
    with atomic():
        if mailed_since("already_registered", owner.email,
                        now - timedelta(hours=1)) >= NOTICES_PER_HOUR:
            current_app.logger.warning("registration notice to %s: %s this hour, no more",
                                       owner.email, NOTICES_PER_HOUR)
            return
        outbox.queue("already_registered", to=owner, now=now,
                     context={"requested_from": address})


def send_verification_again(user: User, address: str = "", now: datetime | None = None
                            ) -> None:
    """"Send the link again": at most once per 5 minutes and 5 times a day."""
    now = now or utcnow()
    if user.email_verified_at is not None:
        raise InvalidInput(_("Your e-mail address is already confirmed."))
    with atomic():
        if issued_since(user, VERIFY, now - VERIFY_RESEND_GAP):
            raise InvalidInput(_("We sent you a link less than 5 minutes ago. Give it a few "
                                 "minutes, look in your spam folder, then ask again."))
        if issued_since(user, VERIFY, now - timedelta(days=1)) >= VERIFY_PER_DAY:
            raise InvalidInput(_("We sent you %(count)s links today already. Check that the "
                                 "address is right, or try again tomorrow.",
                                 count=VERIFY_PER_DAY))
        send_verification(user, address, now)


def verify_email(link: Link, now: datetime | None = None) -> User:
    """Following the mailed link confirms the address."""
    now = now or utcnow()
    with atomic():
        user = claim(link, now)
        user.email_verified_at = now
        retire(user, VERIFY, now)
    return user
