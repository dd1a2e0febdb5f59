"""Logging in, and throttling failed attempts without handing attackers a lockout.

Three limits, all counted over the last ``LOGIN_FAILURE_WINDOW_SECONDS``:

- per account *and* address pair, growing delays: after a few failures the next attempt
  from that pair waits 2, 4, 8, ... seconds (capped). This slows guessing one account from
  one place without touching its owner anywhere else;
- per address, any account: a hard limit, so one machine cannot guess many accounts;
- per account, a high limit against guessing spread over many addresses. It does not apply
  from the owner's usual addresses (KnownAddress, recorded at each successful login), so
  the right password from there is never refused because strangers guessed elsewhere.

A manager can unlock an account (its failures are cleared, with a ChangeRecord).

The failures are rows in the database, not counters in process memory: several gunicorn
workers on several machines share one database and must count alike (Flask-Limiter would
need Redis for that). Two guesses racing through the check at the same instant may each
get one more try; the limits hold to within the number of workers.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, delete, exists, func, select

from .. import policy
from ..extensions import db
from ..models import FailedLogin, KnownAddress, User
from ..models.base import utcnow
from . import account_tokens, accounts, privacy
from .errors import ConstraintClash, DomainError, InvalidInput
from .transaction import atomic
from .wording import N_

DEFAULTS = {
    "LOGIN_FREE_FAILURES_PER_PAIR": 3,
    "LOGIN_MAX_DELAY_SECONDS": 15 * 60,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 100,
    "LOGIN_FAILURE_WINDOW_SECONDS": 15 * 60,
}
# Recorded as the "account" of each registration: no real address looks like it, so it
# only ever counts against the requester's address.
REGISTRATION_PROBE = "(registration)"
# Likewise for asking for a password-reset link (services/account_links.py): each request
# counts against the requester's address, whether or not the address has an account.
RESET_PROBE = "(password reset)"


class LoginThrottled(DomainError):
    status = 429
    # What the refusal says; {wait} is how long, as a person says it.
    wording = N_("Too many failed attempts to log in. To protect the account, logging in "
                 "is paused: try again in %(wait)s.")

    def __init__(self, retry_after: int):
        self.retry_after = max(1, retry_after)
        if self.retry_after < 60:
            wait = ngettext("%(num)s second", "%(num)s seconds", self.retry_after)
        else:
            minutes = math.ceil(self.retry_after / 60)
            wait = ngettext("%(num)s minute", "%(num)s minutes", minutes)
        super().__init__(_(self.wording, wait=wait))

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RequestsThrottled(LoginThrottled):
    """The same pause, for what is not a login: asking for a reset link, changing the
    address (services/account_links.py)."""

    wording = N_("Too many requests from your network; try again in %(wait)s.")


def _setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def window() -> timedelta:
    return timedelta(seconds=_setting("LOGIN_FAILURE_WINDOW_SECONDS"))


def _normal(email: str) -> str:
    return email.strip().lower()[:254]


def pair_delay(failures: int) -> int:
    """Seconds the pair waits after its ``failures``-th recent failure (0: no wait)."""
    free = _setting("LOGIN_FREE_FAILURES_PER_PAIR")
    if failures < free:
        return 0
    return min(2 ** min(failures - free + 1, 30), _setting("LOGIN_MAX_DELAY_SECONDS"))


# --- the checks (reads only) -------------------------------------------------------------


def check(email: str, address: str, now: datetime | None = None) -> None:
    """Raise LoginThrottled if a login to ``email`` from ``address`` must wait."""
    now = now or utcnow()
    email = _normal(email)
    since = now - window()
    count, last = db.session.execute(
        select(func.count(), func.max(FailedLogin.attempted_at))
        .where(FailedLogin.email == email, FailedLogin.address == address,
               FailedLogin.attempted_at > since)
    ).one()
    if count and (wait := last + timedelta(seconds=pair_delay(count)) - now) > timedelta(0):
        raise LoginThrottled(math.ceil(wait.total_seconds()))
    check_address(address, now)
    if not _is_known(email, address):
        _limit(FailedLogin.email == email, _setting("LOGIN_MAX_FAILURES_PER_ACCOUNT"), now)


def check_address(address: str, now: datetime | None = None) -> None:
    """Raise LoginThrottled if this address failed too often lately (any account)."""
    _limit(FailedLogin.address == address, _setting("LOGIN_MAX_FAILURES_PER_ADDRESS"),
           now or utcnow())


def check_requests(address: str, now: datetime | None = None) -> None:
    """check_address for what is not a login (registering, asking for a reset link), in
    its own words: RequestsThrottled."""
    try:
        check_address(address, now)
    except LoginThrottled as exc:
        raise RequestsThrottled(exc.retry_after) from None


def _is_known(email: str, address: str) -> bool:
    return bool(db.session.scalar(select(exists().where(
        KnownAddress.address == address, KnownAddress.user_id == User.id,
        func.lower(User.email) == email))))


def _limit(condition: ColumnElement[bool], limit: int, now: datetime) -> None:
    since = now - window()
    count = db.session.scalar(select(func.count()).select_from(FailedLogin)
                              .where(condition, FailedLogin.attempted_at > since))
    if count < limit:
        return
    # The wait ends when the oldest failure that keeps the count at the limit leaves
    # the window.
    freeing = db.session.scalar(
        select(FailedLogin.attempted_at).where(condition, FailedLogin.attempted_at > since)
        .order_by(FailedLogin.attempted_at).offset(count - limit).limit(1))
    raise LoginThrottled(math.ceil((freeing + window() - now).total_seconds()))


def failure_counts(emails: list[str], now: datetime | None = None) -> dict[str, int]:
    """Recent failed logins per lower-cased e-mail address, for the users page."""
    since = (now or utcnow()) - window()
    normal = [_normal(e) for e in emails]
    rows = db.session.execute(
        select(FailedLogin.email, func.count()).where(FailedLogin.email.in_(normal),
                                                      FailedLogin.attempted_at > since)
        .group_by(FailedLogin.email))
    return {email: count for email, count in rows}


# --- the writes --------------------------------------------------------------------------


def _record_failure(email: str, address: str, now: datetime) -> None:
    with atomic():
        # Failures older than the window count for nothing; dropping them here keeps the
        # table as small as the attacks of the last minutes.
        db.session.execute(delete(FailedLogin)
                           .where(FailedLogin.attempted_at <= now - window()))
        db.session.add(FailedLogin(email=_normal(email), address=address[:64],
                                   attempted_at=now))


def count_failure(email: str, address: str, now: datetime | None = None) -> None:
    """Count a failed attempt (a wrong password, or a probe such as RESET_PROBE) against
    ``email`` and ``address``, as a failed login is."""
    _record_failure(email, address, now or utcnow())


def clear_failures(email: str, address: str | None = None) -> None:
    """Forget the failures counted against ``email`` (from ``address`` only, if given): a
    success clears its pair's, as log_in does (services/totp.py, for its probes)."""
    where = [FailedLogin.email == _normal(email)]
    if address is not None:
        where.append(FailedLogin.address == address)
    with atomic():
        db.session.execute(delete(FailedLogin).where(*where))


def log_in(email: str, password: str, address: str, now: datetime | None = None) -> User:
    """The user, after the throttle lets the attempt through and the password is right.

    A refusal is recorded (the LoginRefused keeps it); a success clears this pair's
    failures, remembers the address as one of the user's usual ones and, for a user
    without a second factor, the time of the sign-in.
    """
    now = now or utcnow()
    try:
        check(email, address, now)
    except LoginThrottled:
        current_app.logger.warning("login throttled: %r from %s", email, address)
        raise
    try:
        user = accounts.authenticate(email, password)  # hashing: before any write lock
    except accounts.LoginRefused as exc:
        _record_failure(email, address, now)
        current_app.logger.warning("failed login: %r from %s (%s)", email, address,
                                   type(exc).__name__)
        raise
    with atomic():
        db.session.execute(delete(FailedLogin).where(FailedLogin.email == _normal(email),
                                                     FailedLogin.address == address))
        # With a second factor the sign-in ends at the code (totp.verify notes the time):
        # a password alone must not keep an unused account from being disabled.
        if user.totp_enabled_at is None:
            user.last_login_at = now
        _remember(user, address, now)
    current_app.logger.info("login: %s (%s, id %s) from %s", user.email, user.role, user.id,
                            address)
    return user


def _remember(user: User, address: str, now: datetime) -> None:
    """Note ``address`` as one of the user's usual ones (inside the login's atomic())."""
    known = db.session.scalar(select(KnownAddress).where(KnownAddress.user_id == user.id,
                                                         KnownAddress.address == address))
    try:
        with atomic():  # its own savepoint: a clash undoes only this
            if known is None:
                db.session.add(KnownAddress(user_id=user.id, address=address[:64],
                                            last_seen=now))
            else:
                known.last_seen = now
    except ConstraintClash:
        pass  # the same user logged in from here at the same moment: already recorded


def change_password(user: User, current: str, new: str, address: str,
                    now: datetime | None = None) -> None:
    """Change the password; guessing the current one from a stolen session is throttled
    like a login."""
    now = now or utcnow()
    check(user.email, address, now)
    try:
        accounts.change_password(user, current, new)
    except accounts.WrongPassword:
        _record_failure(user.email, address, now)
        current_app.logger.warning("failed password change: %s from %s", user.email, address)
        raise
    current_app.logger.info("password changed: %s from %s", user.email, address)


def register(*, email: str, name: str, password: str, address: str,
             read_privacy_notice: bool = False) -> str:
    """Register an applicant; returns the address the confirmation link went to.

    The answer never tells whether the address has an account: for one that has, the
    same checks run and the password is hashed alike (and thrown away), and its owner is
    mailed instead (account_tokens.tell_owner_of_registration). Nobody is logged in: the
    mailed link confirms the address and logs the new applicant in. Every registration
    counts against the requester's address like a failed login, so it cannot be used to
    mail many addresses."""
    if not read_privacy_notice:
        raise InvalidInput(_("Read the privacy notice and tick the box."))
    now = utcnow()
    check_requests(address, now)
    email = email.strip()
    owner = accounts.find_by_email(email)
    if owner is None:
        user = accounts.register_applicant(email=email, name=name, password=password)
        with atomic():
            privacy.record_consent(user, privacy.PRIVACY_NOTICE)
        # The address is confirmed by the mailed link, which also logs the user in.
        account_tokens.send_verification(user, address, now)
        current_app.logger.info("registered: %s (applicant, id %s) from %s", user.email,
                                user.id, address)
    else:
        accounts.check_registration(email=email, name=name, password=password)
        account_tokens.tell_owner_of_registration(owner, address, now)
        current_app.logger.warning("registration with the address of %s (id %s) from %s: "
                                   "its owner is told", owner.email, owner.id, address)
    _record_failure(REGISTRATION_PROBE, address, now)  # after the hashing: no write lock
    return email


def unlock_account(user: User, by: User) -> int:
    """A manager clears an account's failed logins; returns how many were cleared."""
    policy.ensure(policy.can_unlock_account(by, user),
                  "Only a programme manager may unlock accounts.")
    with atomic():
        cleared = db.session.execute(
            delete(FailedLogin).where(FailedLogin.email == _normal(user.email))).rowcount
        if not cleared:
            raise InvalidInput(_("The account of %(name)s has no failed logins to clear.",
                                 name=user.name))
        accounts.record_change(user, "unlocked", by, {"failed_logins": [str(cleared), "0"]})
    return cleared
