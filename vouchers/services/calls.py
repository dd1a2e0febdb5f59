"""Reading calls and their per-type budget figures."""

from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Call


def open_calls(at: datetime) -> list[Call]:
    return list(db.session.scalars(
        select(Call)
        .where(Call.opens_at <= at, Call.closes_at > at)
        .options(selectinload(Call.voucher_types), selectinload(Call.programme))
        .order_by(Call.closes_at)
    ))


def calls_open_first(now: datetime) -> list[Call]:
    """Every call: the open ones first, then the most recently opened."""
    is_open = (Call.opens_at <= now) & (Call.closes_at > now)
    return list(db.session.scalars(
        select(Call).order_by(case((is_open, 0), else_=1), Call.opens_at.desc(), Call.id.desc())
    ))
