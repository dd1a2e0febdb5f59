"""Accounts: registration, invitations, passwords, sessions and a manager's account actions.

Like the other services these functions flush but never commit; the request (or CLI
command) commits once on success. Every write runs in ``atomic()``, which is where SQLite's
write lock is taken, so password hashing (slow on purpose) always happens before it.
Logging in and its throttling are in services/logins.py; the password policy in
services/passwords.py.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from workflows.lifecycle import ROLES

from .. import i18n, policy
from ..extensions import db
from ..models import INVITED_ROLES, Application, ChangeRecord, Invitation, Partner, User
from ..models.base import utcnow
from ..text import clean_line
from . import outbox
from .errors import DomainError, InvalidInput
from .passwords import password_problem
from .transaction import atomic
from .wording import N_

INVITATION_LIFETIME = timedelta(days=7)
USERS_PER_PAGE = 50
WRONG_PASSWORD = N_("Your current password is wrong.")


class LoginRefused(DomainError):
    """Wrong e-mail address or password."""

    # The failed attempt is recorded for throttling: the boundary keeps it.
    keeps_changes = True


class WrongPassword(InvalidInput):
    """The current password given to confirm a change is wrong (recorded like a login)."""

    keeps_changes = True


class AccountDisabled(LoginRefused):
    """The password was right but a manager disabled the account."""


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def enabled_managers(application: Application | None = None) -> list[User]:
    """The managers whose accounts are enabled, by id: who hears of what the programme as
    a whole must act on; given ``application``, those who reach it (policy.reaches: its
    partner's managers and the lead partner's, never another partner's)."""
    managers = db.session.scalars(select(User).where(User.role == "manager",
                                                     User.enabled.is_(True))
                                  .order_by(User.id))
    return [m for m in managers if application is None or policy.reaches(m, application)]


def session_user(user_id: int, generation: int) -> User | None:
    """The user a session cookie names, if that session has not been ended."""
    user = db.session.get(User, user_id)
    if user is None or not user.enabled or user.session_generation != generation:
        return None
    return user


def _exists_message(email: str) -> str:
    return _("An account for %(email)s already exists.", email=email)


def create_user(*, email: str, name: str, role: str, password: str | None,
                organisation_id: int | None = None, password_hash: str | None = None,
                verified: bool = True) -> User:
    """A new account. Its address counts as verified (an accepted invitation proved it,
    the CLI's operator vouches for it) unless ``verified`` is False: a self-registration
    confirms it through the mailed link (services/account_tokens.py)."""
    email = email.strip()
    if role not in ROLES:
        raise InvalidInput(_("Unknown role %(role)s; choose one of %(roles)s.", role=repr(role),
                             roles=", ".join(ROLES)))
    name = _check_identity(email, name)
    if password is not None:
        password_hash = _hash_new(password, email=email, name=name)
    # Hashed above, before atomic() takes the write lock.
    with atomic(clashes={"uq_users_email_lower": _exists_message(email)}):
        user = User(email=email, name=name, role=role, password_hash=password_hash,
                    organisation_id=organisation_id,
                    email_verified_at=utcnow() if verified else None)
        db.session.add(user)
    return user


def _hash_new(password: str, *, email: str, name: str) -> str:
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise InvalidInput(problem)
    return generate_password_hash(password)


def _check_form(email: str, name: str) -> str:
    """The cleaned name, after checking the address is valid."""
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or len(email) > 254:
        raise InvalidInput(_("Give a valid e-mail address."))
    return clean_line(name, N_("a name"), 200)


def _check_identity(email: str, name: str) -> str:
    """The cleaned name, after checking the address is valid and free."""
    name = _check_form(email, name)
    if find_by_email(email) is not None:
        raise InvalidInput(_exists_message(email))
    return name


def check_registration(*, email: str, name: str, password: str) -> None:
    """What registering ``email`` checks and costs, short of creating the account: for an
    address that has one already (services/logins.register), so the answer is the same
    and takes as long. The hash is thrown away. Writes nothing."""
    email = email.strip()
    _hash_new(password, email=email, name=_check_form(email, name))


def register_applicant(*, email: str, name: str, password: str) -> User:
    """An SME's self-registration; the company profile is filled in afterwards."""
    return create_user(email=email, name=name, role="applicant", password=password,
                       verified=False)


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def verify_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


def authenticate(email: str, password: str) -> User:
    """The user with this e-mail address and password, else LoginRefused. Writes nothing."""
    user = find_by_email(email)
    if user is None:
        # Hash anyway, so the answer takes as long as for an existing account and its
        # timing does not tell which addresses have one.
        check_password_hash(_dummy_hash(), password)
        raise LoginRefused(_("The e-mail address or the password is wrong."))
    if not verify_password(user, password):
        raise LoginRefused(_("The e-mail address or the password is wrong."))
    if not user.enabled:
        raise AccountDisabled(_("This account is disabled. Ask a programme manager to "
                                "enable it."))
    if user.email_verified_at is None:
        # A self-registration is inert until its mailed link confirms the address (the
        # link logs the user in). The same answer as a wrong password: a registration
        # with someone else's address must not tell, at the next login, that it existed.
        raise LoginRefused(_("The e-mail address or the password is wrong."))
    return user


def end_sessions(user: User) -> None:
    """Make every session cookie issued to ``user`` so far stop working, on every server."""
    with atomic():
        # An SQL increment, so two concurrent bumps cannot land on the same value.
        user.session_generation = User.session_generation + 1
    db.session.refresh(user, ["session_generation"])


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password and end every session of the user (the caller logs this one in)."""
    if not verify_password(user, current):
        raise WrongPassword(_(WRONG_PASSWORD))
    if new == current:
        raise InvalidInput(_("Choose a password different from the current one."))
    new_hash = _hash_new(new, email=user.email, name=user.name)
    from .account_tokens import EMAIL_CHANGE, RESET, retire  # it imports this module

    with atomic():
        user.password_hash = new_hash
        end_sessions(user)
        # Whoever knew the old password may have asked to move the address to their own
        # mailbox, or for a reset link: those links stop working with the old password.
        retire(user, EMAIL_CHANGE)
        retire(user, RESET)
        outbox.queue("password_changed", to=user,
                     context={"changed_at": utcnow(), "by_reset": False})


# --- a manager's account actions ---------------------------------------------------------


def record_change(user: User, action: str, by: User, changes: dict[str, list[str]],
                  reason: str = "") -> None:
    """The account action's ChangeRecord; call inside the action's atomic() block."""
    db.session.add(ChangeRecord(subject_type="user", subject_id=user.id, action=action,
                                actor_id=by.id, reason=reason, changes=changes))


def disable_account(user: User, by: User, reason: str = "") -> None:
    """A manager disables an account: it cannot log in, its sessions end at once and its
    API tokens stop working for good (enabling it again does not bring them back: a
    disabled account may have been a stolen one)."""
    policy.ensure(policy.can_disable_account(by, user),
                  "You cannot disable your own account." if user.id == by.id
                  else "Only a programme manager may disable accounts.")
    reason = clean_line(reason, N_("the reason"), 500, required=False)
    with atomic():  # checked under the lock: a colleague may have just done it
        if not user.enabled:
            raise InvalidInput(_("The account of %(name)s is already disabled.",
                                 name=user.name))
        user.enabled = False
        end_sessions(user)
        from .api_tokens import revoke_all  # api_tokens hashes its tokens with this module

        revoke_all(user)
        # Links this user handed out would otherwise let them, or whoever holds one, back in.
        db.session.execute(
            update(Invitation)
            .where(Invitation.invited_by_id == user.id, Invitation.used_at.is_(None),
                   Invitation.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        record_change(user, "disabled", by, {"enabled": ["yes", "no"]}, reason)


def enable_account(user: User, by: User) -> None:
    policy.ensure(policy.can_enable_account(by, user),
                  "Only a programme manager may enable accounts.")
    with atomic():
        if user.enabled:
            raise InvalidInput(_("The account of %(name)s is already enabled.", name=user.name))
        user.enabled = True
        record_change(user, "enabled", by, {"enabled": ["no", "yes"]})


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_users(*, role: str = "", status: str = "", text: str = "",
               page: int = 1) -> Pagination:
    """One page of the users list, filtered by role, status and a name or e-mail fragment."""
    query = select(User).options(joinedload(User.organisation)).order_by(User.role, User.name,
                                                                          User.id)
    if role:
        query = query.where(User.role == role)
    if status:
        query = query.where(User.enabled == (status == "enabled"))
    if text.strip():
        pattern = f"%{_escape_like(text.strip().lower())}%"
        query = query.where(or_(func.lower(User.name).like(pattern, escape="\\"),
                                func.lower(User.email).like(pattern, escape="\\")))
    return db.paginate(query, page=page, per_page=USERS_PER_PAGE, max_per_page=USERS_PER_PAGE,
                       error_out=False, count=True)


# --- invitations ---------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_invitation(*, by: User, email: str, name: str, role: str,
                      now: datetime | None = None, partner_id: int | None = None,
                      language: str | None = None) -> tuple[Invitation, str]:
    """Invite an evaluator or a manager; returns the invitation and its secret token.
    ``partner_id``: the partner agency they work for (None: the whole programme);
    ``language``: the invitation's, which its mail is written in and the new account
    starts in (None: the inviting manager's own).

    The token is returned once and only its hash is kept. Earlier pending invitations
    for the same address are revoked, so only the newest link works.
    """
    now = now or utcnow()
    email = email.strip()
    if role not in INVITED_ROLES:
        raise InvalidInput(_("Invite an evaluator or a manager; applicants register "
                             "themselves."))
    policy.ensure(policy.can_invite(by, role), "Only a programme manager may invite.")
    name = _check_identity(email, name)
    if partner_id is not None and db.session.get(Partner, partner_id) is None:
        raise InvalidInput(_("Choose one of the programme's partners, or none."))
    if language is not None and language not in i18n.LANGUAGES:
        raise InvalidInput(_("Choose one of the languages the programme speaks."))
    language = language or by.language
    token = secrets.token_urlsafe(32)
    with atomic():
        for earlier in pending_invitations(now, email=email):
            earlier.revoked_at = now
        invitation = Invitation(token_hash=token_hash(token), email=email, name=name,
                                role=role, invited_by_id=by.id, created_at=now,
                                expires_at=now + INVITATION_LIFETIME, partner_id=partner_id,
                                language=language)
        db.session.add(invitation)
        # The manager may still copy the link from the page that follows.
        outbox.queue("invitation", to=email, now=now, language=language,
                     context={"invitation": invitation, "token": token, "inviter": by})
    return invitation, token


def pending_invitations(now: datetime | None = None, *, email: str | None = None
                        ) -> list[Invitation]:
    now = now or utcnow()
    query = (select(Invitation)
             .options(joinedload(Invitation.invited_by))
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
        return _("This invitation has already been used. Log in with the password you chose.")
    if invitation.revoked_at is not None:
        return _("This invitation was withdrawn. Ask a programme manager for a new one.")
    if invitation.expires_at <= now:
        return _("This invitation has expired. Ask a programme manager for a new one.")
    inviter = db.session.get(User, invitation.invited_by_id)
    if inviter is None or not inviter.enabled:
        return _("This invitation was withdrawn. Ask a programme manager for a new one.")
    return None


def accept_invitation(invitation: Invitation, password: str,
                      now: datetime | None = None) -> User:
    """Create the invited account with the chosen password; the link then stops working."""
    now = now or utcnow()
    problem = invitation_problem(invitation, now)
    if problem:
        raise InvalidInput(problem)
    password_hash = _hash_new(password, email=invitation.email, name=invitation.name)
    with atomic():
        user = create_user(email=invitation.email, name=invitation.name, role=invitation.role,
                           password=None, password_hash=password_hash)
        user.partner_id = invitation.partner_id
        user.language = invitation.language
        # Conditional, so two clicks on one link at the same moment create one account.
        claimed = db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.used_at.is_(None),
                   Invitation.revoked_at.is_(None), Invitation.expires_at > now)
            .values(used_at=now, user_id=user.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            raise InvalidInput(_("This invitation has already been used."))
    db.session.refresh(invitation)
    return user


def revoke_invitation(invitation: Invitation, by: User, now: datetime | None = None) -> None:
    policy.ensure(policy.can_revoke_invitation(by, invitation),
                  "Only a programme manager may withdraw invitations.")
    now = now or utcnow()
    with atomic():
        problem = invitation_problem(invitation, now)
        if problem:
            raise InvalidInput(problem)
        invitation.revoked_at = now
