"""The reserve list: waitlisted applications offered when money returns (STUB: being built)."""

from __future__ import annotations

from datetime import datetime

from ..models import Call


def offers(call: Call, now: datetime | None = None) -> list:
    """Per voucher type of ``call``, the waitlisted applications that now fit, in rank order."""
    return []
