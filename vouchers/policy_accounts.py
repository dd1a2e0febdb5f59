"""The permissions of accounts: invitations, disabling and unlocking, personal access
tokens, the second factor.

Part of vouchers/policy.py, kept apart for size: that module re-exports every name here,
and only it imports this.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from workflows.lifecycle import EVALUATOR, MANAGER

from .extensions import db
from .models import Invitation, Programme, User
from .policy import _signed_in, can_run_programme


def can_revoke_token(user: Any, token: Any) -> bool:
    """A personal access token is its owner's alone: another user gets a 404."""
    return _signed_in(user) and token.user_id == user.id


def can_invite(user: Any, role: str | None = None) -> bool:
    return can_run_programme(user) and role in (None, EVALUATOR, MANAGER)


def can_revoke_invitation(user: Any, invitation: Invitation) -> bool:
    return can_run_programme(user)


def can_disable_account(user: Any, target: User) -> bool:
    return can_run_programme(user) and target.id != user.id


def can_enable_account(user: Any, target: User) -> bool:
    return can_run_programme(user)


def can_unlock_account(user: Any, target: User) -> bool:
    return can_run_programme(user)


def can_reset_second_factor(user: Any, target: User) -> bool:
    """Take away another user's second factor (a lost phone); never one's own, which
    would let a stolen password session drop it."""
    return can_run_programme(user) and target.id != user.id


def must_use_second_factor(user: Any) -> bool:
    """Managers sign in with a second factor; evaluators too once a programme says so."""
    if not _signed_in(user) or user.role not in (MANAGER, EVALUATOR):
        return False
    return user.role == MANAGER or bool(db.session.scalar(select(
        select(Programme.id).where(Programme.evaluators_need_second_factor.is_(True))
        .exists())))


def can_turn_off_second_factor(user: Any, obj: Any = None) -> bool:
    return (_signed_in(user) and user.totp_enabled_at is not None
            and not must_use_second_factor(user))
