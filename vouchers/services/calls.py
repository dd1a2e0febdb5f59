"""Reading calls and their per-type budget figures."""

from datetime import datetime

from sqlalchemy import select
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
