"""Reading calls and programmes for the pages that list them.

Whether a call is open, upcoming or closed is decided by Call.status (and its query
twin Call.open_at) in models/programmes.py, nowhere else.
"""

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import Call, Programme


def open_calls(at: datetime) -> list[Call]:
    return list(db.session.scalars(
        select(Call)
        .where(Call.open_at(at))
        .options(selectinload(Call.voucher_types), selectinload(Call.programme))
        .order_by(Call.closes_at)
    ))


def calls_open_first(now: datetime) -> list[Call]:
    """Every call: the open ones first, then the most recently opened."""
    return list(db.session.scalars(
        select(Call).order_by(case((Call.open_at(now), 0), else_=1), Call.opens_at.desc(),
                              Call.id.desc())
    ))


def newest_calls() -> list[Call]:
    """Every call with its programme and voucher types, the latest to open first."""
    return list(db.session.scalars(
        select(Call).options(joinedload(Call.programme), selectinload(Call.voucher_types))
        .order_by(Call.opens_at.desc(), Call.id.desc())
    ))


def programmes() -> list[Programme]:
    """Every programme, the latest to start first."""
    return list(db.session.scalars(
        select(Programme).order_by(Programme.starts_on.desc(), Programme.id.desc())
    ))


def programmes_with_call_counts() -> list[tuple[Programme, int]]:
    return [tuple(row) for row in db.session.execute(
        select(Programme, func.count(Call.id)).outerjoin(Call, Call.programme_id == Programme.id)
        .group_by(Programme.id).order_by(Programme.starts_on.desc(), Programme.id.desc())
    )]
