"""Figures for the manager's dashboards: a few aggregate queries, never work per row.

The budget figures and the count of applications received come from
``call_figures.type_figures``, the same reading the funder's workbook uses; what each
means is defined in ``vouchers/figures.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from workflows.lifecycle import STATES

from ..extensions import db
from ..figures import received_clause
from ..models import Application, Call
from ..money import ZERO
from .call_figures import TypeFigures, call_type_figures, type_figures
from .calls import calls_open_first


@dataclass
class CallDashboard:
    call: Call
    types: list[TypeFigures]
    # counts[state][voucher_type] over the applications received; drafts are counted apart.
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def drafts(self) -> int:
        return sum(t.drafts for t in self.types)

    @property
    def states(self) -> list[str]:
        """The states that have applications, in lifecycle order."""
        return [s for s in STATES if s in self.counts]

    def state_total(self, state: str) -> int:
        return sum(self.counts.get(state, {}).values())

    @property
    def submitted_total(self) -> int:
        return sum(t.received for t in self.types)

    def total(self, attribute: str):
        values = [getattr(t, attribute) for t in self.types]
        return sum(values, ZERO if values and isinstance(values[0], Decimal) else 0)


def call_dashboard(call: Call) -> CallDashboard:
    """Per voucher type: quota, awarded, committed, paid, remaining; counts per state."""
    a = Application
    counts: dict[str, dict[str, int]] = {}
    for voucher_type, state, count in db.session.execute(
        select(a.voucher_type, a.state, func.count())
        .where(a.call_id == call.id, received_clause(a.state, a.submitted_at))
        .group_by(a.voucher_type, a.state)
    ):
        counts.setdefault(state, {})[voucher_type] = count
    return CallDashboard(call=call, types=call_type_figures(db.session, call.id), counts=counts)


@dataclass(frozen=True)
class CallSummary:
    call: Call
    status: str  # "open", "upcoming" or "closed": Call.status
    applications: int  # received
    envelope: Decimal
    committed: Decimal


def call_summaries(now: datetime) -> list[CallSummary]:
    """Every call, the open ones first, then the most recently opened."""
    calls = calls_open_first(now)
    figures = type_figures(db.session, [call.id for call in calls])
    summaries = []
    for call in calls:
        types = figures[call.id]
        summaries.append(CallSummary(
            call=call, status=call.status(now),
            applications=sum(t.received for t in types),
            envelope=sum((t.envelope for t in types), ZERO),
            committed=sum((t.committed for t in types), ZERO),
        ))
    return summaries
