"""A call's lead evaluator: who may be named, and what is wrong with a choice
(services/call_setup.py checks it when a call is created or changed)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from workflows import lifecycle

from ..extensions import db
from ..models import Call, User


def lead_candidates(call: Call | None = None) -> list[User]:
    """Who may be named a call's lead evaluator: the enabled evaluators, and the call's
    present lead even if since disabled (so that saving the call keeps them)."""
    where = User.enabled.is_(True)
    if call is not None and call.lead_evaluator_id is not None:
        where = where | (User.id == call.lead_evaluator_id)
    return list(db.session.scalars(
        select(User).where(User.role == lifecycle.EVALUATOR, where).order_by(User.name, User.id)
    ))


def lead_problems(lead_id: int | None, present: int | None) -> list[str]:
    if lead_id is None or lead_id == present:
        return []
    lead = db.session.get(User, lead_id)
    if lead is None or lead.role != lifecycle.EVALUATOR or not lead.enabled:
        return [_("The lead evaluator must be an evaluator whose account is active.")]
    return []
