"""Creating accounts and checking passwords."""

from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from workflows.lifecycle import ROLES

from ..extensions import db
from ..models import User
from .errors import InvalidInput

MIN_PASSWORD_LENGTH = 12


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why a password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    lowered = password.lower()
    local = email.split("@")[0].lower()
    if local and len(local) >= 4 and local in lowered:
        return "Do not use your e-mail address in your password."
    if len(set(lowered)) < 4:
        return "Use more different characters."
    return None


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(*, email: str, name: str, role: str, password: str | None,
                organisation_id: int | None = None, password_hash: str | None = None) -> User:
    email = email.strip()
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if "@" not in email or len(email) > 254:
        raise InvalidInput("Give a valid e-mail address.")
    if not name.strip():
        raise InvalidInput("Give a name.")
    if find_by_email(email) is not None:
        raise InvalidInput(f"An account for {email} already exists.")
    if password is not None:
        problem = password_problem(password, email=email, name=name)
        if problem:
            raise InvalidInput(problem)
        password_hash = generate_password_hash(password)
    user = User(email=email, name=name.strip(), role=role, password_hash=password_hash,
                organisation_id=organisation_id)
    db.session.add(user)
    db.session.flush()
    return user


def verify_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)
