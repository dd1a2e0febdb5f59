"""Accounts: the password policy, registration, invitations, passwords and sessions.

Like the other services these functions flush but never commit; the request (or CLI
command) commits once on success.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from workflows.lifecycle import ROLES

from ..extensions import db
from ..models import INVITED_ROLES, Invitation, User
from ..models.base import utcnow
from .errors import DomainError, InvalidInput, NotAllowed

MIN_PASSWORD_LENGTH = 12
# Hashing a very long input is slow on purpose; a cap keeps it from being a lever for
# exhausting the workers.
MAX_PASSWORD_LENGTH = 256
INVITATION_LIFETIME = timedelta(days=7)

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"

# Words this site's users are likely to build a password from.
CONTEXT_WORDS = frozenset({
    "voucher", "vouchers", "grant", "grants", "interreg", "funding", "programme", "program",
    "password", "passwort", "wachtwoord", "motdepasse", "contrasena", "adgangskode",
    "welcome", "letmein", "admin", "login", "secret", "changeme", "biotech", "medtech",
})
# Keyboard rows and runs: a password that is a stretch of one is guessed at once.
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp",
    "1q2w3e4r5t6y7u8i9o0p", "zaq1xsw2cde3vfr4bgt5nhy6mju7",
)
_LEET = [str.maketrans({"@": "a", "4": "a", "0": "o", "1": i_or_l, "!": "i", "3": "e",
                        "$": "s", "5": "s", "7": "t", "+": "t", "9": "g", "8": "b"})
         for i_or_l in ("i", "l")]
_ENDS = re.compile(r"^[\W\d_]+|[\W\d_]+$")

COMMON_MESSAGE = ("This password is one of the most common ones, which attackers try first. "
                  "Choose another: several unrelated words make a strong one.")
PATTERN_MESSAGE = ("This password follows an easy pattern (a keyboard row, a run of letters or "
                   "digits, or a repetition). Choose another.")


class LoginRefused(DomainError):
    """Wrong e-mail address or password."""


class WrongPassword(InvalidInput):
    """The current password given to confirm a change is wrong."""


class AccountDisabled(LoginRefused):
    """The password was right but a manager disabled the account."""


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _is_sequence(text: str) -> bool:
    if len(text) < 4:
        return False
    # Tripled so a run may wrap ("7890123"), reversed for runs typed backwards.
    return any(text in seq * 3 or text in seq[::-1] * 3 for seq in _SEQUENCES)


def _repeated_unit(text: str) -> str | None:
    """The shortest unit that ``text`` repeats ("abcabc" -> "abc"), or None."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return None


def _is_weak_word(word: str) -> bool:
    candidates = {word} | {word.translate(table) for table in _LEET}
    return any(c in common_passwords() or c in CONTEXT_WORDS for c in candidates)


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why a password is refused, or None.

    Length first, then the checks that catch what attackers try first: lists of common
    passwords, words of this site, keyboard runs, repetitions and the user's own name
    or e-mail address, also when decorated with digits, symbols or l33t spelling.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    lowered = password.lower()
    if len(set(lowered)) < 4:
        return "Use more different characters."
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in lowered:
        return "Do not use your e-mail address in your password."
    # The password without the digits and symbols people add at either end.
    core = _ENDS.sub("", lowered)
    if lowered in common_passwords() or (core and _is_weak_word(core)):
        return COMMON_MESSAGE
    squeezed = re.sub(r"[\W_]+", "", lowered)
    if _is_sequence(lowered) or _is_sequence(core) or _is_sequence(squeezed):
        return PATTERN_MESSAGE
    for text in (lowered, core):
        unit = _repeated_unit(text)
        if unit is not None and (len(unit) <= 4 or _is_weak_word(unit)):
            return PATTERN_MESSAGE
    rest = core
    for part in sorted(re.findall(r"\w{3,}", name.lower()), key=len, reverse=True):
        rest = rest.replace(part, "")
    if core and name.strip() and not re.sub(r"[\W\d_]+", "", rest):
        return "Do not build your password from your name."
    return None


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(*, email: str, name: str, role: str, password: str | None,
                organisation_id: int | None = None, password_hash: str | None = None) -> User:
    email = email.strip()
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    _check_identity(email, name)
    if password is not None:
        problem = password_problem(password, email=email, name=name)
        if problem:
            raise InvalidInput(problem)
        password_hash = generate_password_hash(password)
    user = User(email=email, name=name.strip(), role=role, password_hash=password_hash,
                organisation_id=organisation_id)
    try:
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError as exc:  # two sign-ups with one address at the same moment
        raise InvalidInput(f"An account for {email} already exists.") from exc
    return user


def _check_identity(email: str, name: str) -> None:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or len(email) > 254:
        raise InvalidInput("Give a valid e-mail address.")
    if not name.strip():
        raise InvalidInput("Give a name.")
    if len(name.strip()) > 200:
        raise InvalidInput("Give a name of at most 200 characters.")
    if find_by_email(email) is not None:
        raise InvalidInput(f"An account for {email} already exists.")


def register_applicant(*, email: str, name: str, password: str) -> User:
    """An SME's self-registration; the company profile is filled in afterwards."""
    return create_user(email=email, name=name, role="applicant", password=password)


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def verify_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


def authenticate(email: str, password: str) -> User:
    """The user with this e-mail address and password, else LoginRefused."""
    user = find_by_email(email)
    if user is None:
        # Hash anyway, so the answer takes as long as for an existing account and its
        # timing does not tell which addresses have one.
        check_password_hash(_dummy_hash(), password)
        raise LoginRefused("The e-mail address or the password is wrong.")
    if not verify_password(user, password):
        raise LoginRefused("The e-mail address or the password is wrong.")
    if not user.enabled:
        raise AccountDisabled("This account is disabled. Ask a programme manager to enable it.")
    return user


def end_sessions(user: User) -> None:
    """Make every session cookie issued to ``user`` so far stop working, on every server."""
    # An SQL increment, so two concurrent bumps cannot land on the same value.
    user.session_generation = User.session_generation + 1
    db.session.flush()
    db.session.refresh(user, ["session_generation"])


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password and end every session of the user (the caller logs this one in)."""
    if not verify_password(user, current):
        raise WrongPassword("Your current password is wrong.")
    if new == current:
        raise InvalidInput("Choose a password different from the current one.")
    problem = password_problem(new, email=user.email, name=user.name)
    if problem:
        raise InvalidInput(problem)
    user.password_hash = generate_password_hash(new)
    end_sessions(user)


def disable_account(user: User, by: User) -> None:
    """A manager disables an account: it cannot log in and its sessions end at once."""
    if user.id == by.id:
        raise NotAllowed("You cannot disable your own account.")
    if not user.enabled:
        raise InvalidInput(f"The account of {user.name} is already disabled.")
    user.enabled = False
    end_sessions(user)
    # Links this user handed out would otherwise let them, or whoever holds one, back in.
    db.session.execute(
        update(Invitation)
        .where(Invitation.invited_by_id == user.id, Invitation.used_at.is_(None),
               Invitation.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def enable_account(user: User, by: User) -> None:
    if user.enabled:
        raise InvalidInput(f"The account of {user.name} is already enabled.")
    user.enabled = True
    db.session.flush()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_invitation(*, by: User, email: str, name: str, role: str,
                      now: datetime | None = None) -> tuple[Invitation, str]:
    """Invite an evaluator or a manager; returns the invitation and its secret token.

    The token is returned once and only its hash is kept. Earlier pending invitations
    for the same address are revoked, so only the newest link works.
    """
    now = now or utcnow()
    email = email.strip()
    if role not in INVITED_ROLES:
        raise InvalidInput("Invite an evaluator or a manager; applicants register themselves.")
    _check_identity(email, name)
    for earlier in pending_invitations(now, email=email):
        earlier.revoked_at = now
    token = secrets.token_urlsafe(32)
    invitation = Invitation(token_hash=token_hash(token), email=email, name=name.strip(),
                            role=role, invited_by_id=by.id, created_at=now,
                            expires_at=now + INVITATION_LIFETIME)
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def pending_invitations(now: datetime | None = None, *, email: str | None = None
                        ) -> list[Invitation]:
    now = now or utcnow()
    query = (select(Invitation)
             .where(Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
                    Invitation.expires_at > now)
             .order_by(Invitation.created_at.desc(), Invitation.id.desc()))
    if email is not None:
        query = query.where(func.lower(Invitation.email) == email.strip().lower())
    return list(db.session.scalars(query))


def find_invitation(token: str) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))


def invitation_problem(invitation: Invitation, now: datetime | None = None) -> str | None:
    """Why an invitation link no longer works, or None."""
    now = now or utcnow()
    if invitation.used_at is not None:
        return "This invitation has already been used. Log in with the password you chose."
    if invitation.revoked_at is not None:
        return "This invitation was withdrawn. Ask a programme manager for a new one."
    if invitation.expires_at <= now:
        return "This invitation has expired. Ask a programme manager for a new one."
    inviter = db.session.get(User, invitation.invited_by_id)
    if inviter is None or not inviter.enabled:
        return "This invitation was withdrawn. Ask a programme manager for a new one."
    return None


def accept_invitation(invitation: Invitation, password: str,
                      now: datetime | None = None) -> User:
    """Create the invited account with the chosen password; the link then stops working."""
    now = now or utcnow()
    problem = invitation_problem(invitation, now)
    if problem:
        raise InvalidInput(problem)
    with db.session.begin_nested():
        user = create_user(email=invitation.email, name=invitation.name, role=invitation.role,
                           password=password)
        # Conditional, so two clicks on one link at the same moment create one account.
        claimed = db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.used_at.is_(None),
                   Invitation.revoked_at.is_(None), Invitation.expires_at > now)
            .values(used_at=now, user_id=user.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise InvalidInput("This invitation has already been used.")
    db.session.refresh(invitation)
    return user


def revoke_invitation(invitation: Invitation, now: datetime | None = None) -> None:
    now = now or utcnow()
    problem = invitation_problem(invitation, now)
    if problem:
        raise InvalidInput(problem)
    invitation.revoked_at = now
    db.session.flush()
