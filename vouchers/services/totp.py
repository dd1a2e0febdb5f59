"""Two-factor sign-in: a TOTP authenticator app (RFC 6238), and ten recovery codes.

Enrolling stores a new secret (encrypted, below) that does nothing until a code from the
app confirms it; the confirmation turns the second factor on and hands out the recovery
codes, shown once and kept as SHA-256 hashes (models/second_factor.py says why a fast
hash). Who must have one (managers; evaluators when a programme says so) is a question
for policy.must_use_second_factor; the login's code step is vouchers/auth/second_factor.py.

A code is accepted for the current 30-second step or the one before or after (clocks
drift), and never twice: ``users.totp_last_step`` holds the last accepted step, and a
conditional UPDATE moves it forward, so a code for that step or an earlier one (a replay,
or a second use racing the first) is refused. A recovery code is used up by a conditional
UPDATE too: two uses at the same moment cannot both win.

Wrong codes are throttled as wrong passwords are (services/logins.py), counted against a
probe per user (``probe(user)``) and the requester's address. The probe is not the e-mail
address: a correct password clears that address's password failures, and must not clear
the guesses at the code that follow it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from functools import cache

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from .. import policy
from ..extensions import db
from ..models import ChangeRecord, Programme, RecoveryCode, User
from ..models.base import utcnow
from ..text import clean_line
from . import accounts, logins
from .errors import InvalidInput
from .transaction import atomic
from .wording import N_

STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODE_COUNT = 10
# Lower-case letters and digits that cannot be mistaken for one another (no 0/o, 1/l/i).
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_GROUPS, RECOVERY_GROUP_LENGTH = 3, 4  # "abcd-efgh-jkmn": about 59 bits
MAX_CODE_LENGTH = 64
DEFAULT_ISSUER = "Voucher programme"

WRONG_CODE = N_("That code is not right. Type the 6-digit code your app shows now, or one "
                "of your recovery codes.")
USED_CODE = N_("That code was used already. Wait until your app shows the next one (every 30 "
               "seconds), then type it.")
UNREADABLE = N_("Your authenticator's secret can no longer be read: the server's key has "
                "changed. Sign in with a recovery code, or ask a programme manager to reset "
                "your two-factor sign-in.")


class WrongCode(InvalidInput):
    """A wrong, reused or unreadable code: counted for throttling, which the boundary keeps."""

    keeps_changes = True


# --- the secret, encrypted at rest -------------------------------------------------------


@cache
def _fernet(secret_key: str) -> Fernet:
    # The secret must be read back to check a code, so unlike a password it is encrypted,
    # not hashed: a copy of the database without SECRET_KEY holds no usable secret.
    # Rotating SECRET_KEY therefore makes every enrolled secret unreadable: those users
    # sign in with a recovery code (hashes, unaffected) or a manager resets their second
    # factor, and they enrol again. (Sessions signed with the old key end anyway.)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"vouchers: TOTP secrets").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _encrypt(secret: str) -> str:
    return _fernet(current_app.config["SECRET_KEY"]).encrypt(secret.encode()).decode()


def _decrypt(stored: str) -> str | None:
    try:
        return _fernet(current_app.config["SECRET_KEY"]).decrypt(stored.encode()).decode()
    except InvalidToken:
        return None


# --- what the pages ask ------------------------------------------------------------------


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None


def probe(user: User) -> str:
    """The "account" that wrong codes of ``user`` count against in services/logins.py."""
    return f"(second factor) {user.id}"


def pending_secret(user: User) -> str | None:
    """The secret being enrolled (not yet confirmed by a code), else None."""
    if is_enabled(user) or not user.totp_secret:
        return None
    return _decrypt(user.totp_secret)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI the QR code holds: the app files the account under these names."""
    issuer = current_app.config.get("TOTP_ISSUER", DEFAULT_ISSUER)
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline SVG element (no image request, no script)."""
    return segno.make(uri, error="m").svg_inline(scale=5, title="QR code for your app")


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


# --- checking a code ---------------------------------------------------------------------


def _normal(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "").lower()[:MAX_CODE_LENGTH]


def _step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The step (now, or one either side) whose code ``code`` is, else None."""
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = _step(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _take_step(user: User, step: int) -> bool:
    """Move the user's last step forward to ``step``; False if it already is there or past."""
    moved = db.session.execute(
        update(User).where(User.id == user.id, User.totp_last_step < step)
        .values(totp_last_step=step).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(user, ["totp_last_step"])
    return bool(moved)


def code_of(secret: str, at: datetime) -> str:
    """The app's code for ``secret`` at ``at``: what a set-up that knows the secret in
    advance (the load test's seed) confirms the enrolment with."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(at)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _use_recovery_code(user: User, code: str, now: datetime) -> bool:
    used = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == _hash(code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    return bool(used)


def _refuse(user: User, address: str, now: datetime, message: str):
    logins.count_failure(probe(user), address, now)
    current_app.logger.warning("second factor refused: %s (id %s) from %s: %s", user.email,
                               user.id, address, message[:40])
    raise WrongCode(_(message))


def _check(user: User, code: str | None, address: str, now: datetime, *,
           secret: str | None, recovery: bool) -> str:
    """Accept ``code`` for ``user`` (throttled like a login): "code" or "recovery"."""
    logins.check(probe(user), address, now)
    code = _normal(code)
    used, refusal = None, None
    with atomic():
        if secret is not None and (step := _matching_step(secret, code, now)) is not None:
            used = "code" if _take_step(user, step) else None
            refusal = None if used else USED_CODE
        elif recovery and code and _use_recovery_code(user, code, now):
            used = "recovery"
        else:
            refusal = UNREADABLE if secret is None and code.isdigit() else WRONG_CODE
    if refusal:  # outside the block above, which a raise would undo with the failure
        _refuse(user, address, now, refusal)
    logins.clear_failures(probe(user), address)
    return used


def verify(user: User, code: str | None, address: str, now: datetime | None = None) -> str:
    """The login's second step: a code of the app or an unused recovery code, for a user
    whose second factor is on. Returns "code" or "recovery"; else WrongCode (counted) or
    LoginThrottled."""
    if not is_enabled(user):
        raise WrongCode(_(WRONG_CODE))
    secret = _decrypt(user.totp_secret or "")
    now = now or utcnow()
    used = _check(user, code, address, now, secret=secret, recovery=True)
    with atomic():
        user.last_login_at = now  # the sign-in is complete (logins.log_in waited for this)
    return used


# --- enrolling, recovery codes, turning off ----------------------------------------------


def begin_enrolment(user: User, secret: str | None = None) -> str:
    """Store a new secret for ``user`` to scan; it works once confirmed by a code.
    ``secret`` (base32) is for set-ups that know it in advance, as the load test's."""
    policy.ensure(policy.can_use_account(user), "Sign in to set up two-factor sign-in.")
    if is_enabled(user):
        raise InvalidInput(_("Two-factor sign-in is already on for your account."))
    secret = secret or pyotp.random_base32()
    with atomic():
        user.totp_secret = _encrypt(secret)
    return secret


def _new_recovery_codes(user: User, now: datetime) -> list[str]:
    """Ten fresh codes in place of the old ones (inside the caller's atomic())."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["-".join("".join(secrets.choice(RECOVERY_ALPHABET)
                              for _ in range(RECOVERY_GROUP_LENGTH))
                      for _ in range(RECOVERY_GROUPS))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(_normal(code)),
                                    created_at=now) for code in codes)
    return codes


def confirm_enrolment(user: User, code: str | None, address: str,
                      now: datetime | None = None) -> list[str]:
    """Turn the second factor on with a code of the newly scanned secret; returns the
    recovery codes, to show once."""
    now = now or utcnow()
    secret = pending_secret(user)
    if secret is None:
        raise InvalidInput(_("Start the set-up again: no new authenticator is waiting for a "
                             "code."))
    _check(user, code, address, now, secret=secret, recovery=False)
    with atomic():
        user.totp_enabled_at = now
        codes = _new_recovery_codes(user, now)
    current_app.logger.info("second factor on: %s (id %s) from %s", user.email, user.id,
                            address)
    return codes


def replace_recovery_codes(user: User, code: str | None, address: str,
                           now: datetime | None = None) -> list[str]:
    """Ten new recovery codes (the old ones stop working), confirmed with a current code."""
    now = now or utcnow()
    if not is_enabled(user):
        raise InvalidInput(_("Two-factor sign-in is off: there are no recovery codes to "
                             "renew."))
    verify(user, code, address, now)
    with atomic():
        return _new_recovery_codes(user, now)


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def turn_off(user: User, code: str | None, address: str, now: datetime | None = None) -> None:
    """The owner turns their second factor off, where nobody requires it of them."""
    policy.ensure(policy.can_turn_off_second_factor(user),
                  "Your role requires two-factor sign-in: it cannot be turned off.")
    verify(user, code, address, now)
    with atomic():
        _clear(user)
    current_app.logger.info("second factor off: %s (id %s) from %s", user.email, user.id,
                            address)


def reset(user: User, by: User, reason: str = "") -> None:
    """A manager takes away ``user``'s second factor (a lost phone): their sessions end,
    and they enrol again at their next sign-in if their role requires it."""
    policy.ensure(policy.can_reset_second_factor(by, user),
                  "You cannot reset your own two-factor sign-in." if user.id == by.id
                  else "Only a programme manager may reset two-factor sign-in.")
    reason = clean_line(reason, N_("the reason"), 500, required=False)
    with atomic():
        if not user.totp_secret:
            raise InvalidInput(_("%(name)s has no two-factor sign-in to reset.", name=user.name))
        was = "on" if is_enabled(user) else "being set up"
        _clear(user)
        accounts.end_sessions(user)
        accounts.record_change(user, "second factor reset", by,
                               {"second_factor": [was, "off"]}, reason)
    logins.clear_failures(probe(user))


def require_for_evaluators(programme: Programme, required: bool, by: User) -> bool:
    """Set whether the programme's evaluators must sign in with a second factor; returns
    whether anything changed (kept in a ChangeRecord)."""
    policy.ensure(policy.can_run_programme(by),
                  "Only a programme manager may change the programme's sign-in rule.")
    with atomic():
        if programme.evaluators_need_second_factor == required:
            return False
        old = "yes" if programme.evaluators_need_second_factor else "no"
        programme.evaluators_need_second_factor = required
        db.session.add(ChangeRecord(subject_type="programme", subject_id=programme.id,
                                    action="second factor rule", actor_id=by.id,
                                    changes={"evaluators_need_second_factor":
                                             [old, "yes" if required else "no"]}))
    return True
