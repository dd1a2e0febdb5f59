"""Figures for the manager's dashboards: a few aggregate queries, never work per row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select

from workflows.lifecycle import DRAFT, STATES, VOUCHER_STATES

from ..extensions import db
from ..models import Application, Call, CallVoucherType
from ..money import ZERO
from .calls import calls_open_first


@dataclass(frozen=True)
class TypeFigures:
    """One voucher type of a call: its quota and envelope, and how much of each is used."""

    voucher_type: str
    label: str
    quota: int
    used: int
    envelope: Decimal
    committed: Decimal
    paid: Decimal
    applications: int

    @property
    def remaining_quota(self) -> int:
        return self.quota - self.used

    @property
    def remaining_envelope(self) -> Decimal:
        return self.envelope - self.committed

    @property
    def committed_unpaid(self) -> Decimal:
        return self.committed - self.paid

    def share(self, amount: Decimal) -> float:
        """``amount`` as a fraction of the envelope, for the chart."""
        return float(amount / self.envelope) if self.envelope else 0.0

    def quota_share(self, count: int) -> float:
        return count / self.quota if self.quota else 0.0


@dataclass
class CallDashboard:
    call: Call
    types: list[TypeFigures]
    # counts[state][voucher_type] over submitted applications; drafts are counted apart.
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    drafts: int = 0

    @property
    def states(self) -> list[str]:
        """The states that have applications, in lifecycle order."""
        return [s for s in STATES if s in self.counts]

    def state_total(self, state: str) -> int:
        return sum(self.counts.get(state, {}).values())

    @property
    def submitted_total(self) -> int:
        return sum(self.state_total(s) for s in self.counts)

    def total(self, attribute: str):
        values = [getattr(t, attribute) for t in self.types]
        return sum(values, ZERO if values and isinstance(values[0], Decimal) else 0)


def call_dashboard(call: Call) -> CallDashboard:
    """Per voucher type: quota, used, committed, paid, remaining; counts per state.

    Committed money and the awarded count are kept on the call's voucher types by the
    award and cancel services; paid money and the counts come from one grouped scan of
    the call's applications.
    """
    cvts = list(db.session.scalars(
        select(CallVoucherType).where(CallVoucherType.call_id == call.id)
        .order_by(CallVoucherType.position, CallVoucherType.id)
    ))
    a = Application
    submitted = a.submitted_at.is_not(None)
    rows = db.session.execute(
        select(
            a.voucher_type, a.state, submitted.label("submitted"), func.count(),
            func.sum(case((a.state.in_(VOUCHER_STATES), a.paid_amount), else_=0)),
        )
        .where(a.call_id == call.id)
        .group_by(a.voucher_type, a.state, submitted)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    paid: dict[str, Decimal] = {}
    applications: dict[str, int] = {}
    drafts = 0
    for voucher_type, state, was_submitted, count, paid_sum in rows:
        paid[voucher_type] = paid.get(voucher_type, ZERO) + Decimal(str(paid_sum or 0))
        if state == DRAFT or not was_submitted:
            if state == DRAFT:
                drafts += count
            continue
        by_type = counts.setdefault(state, {})
        by_type[voucher_type] = by_type.get(voucher_type, 0) + count
        applications[voucher_type] = applications.get(voucher_type, 0) + count
    types = [
        TypeFigures(
            voucher_type=t.voucher_type, label=t.label, quota=t.quota, used=t.awarded_count,
            envelope=t.envelope, committed=t.committed,
            paid=paid.get(t.voucher_type, ZERO).quantize(Decimal("0.01")),
            applications=applications.get(t.voucher_type, 0),
        )
        for t in cvts
    ]
    return CallDashboard(call=call, types=types, counts=counts, drafts=drafts)


@dataclass(frozen=True)
class CallSummary:
    call: Call
    status: str  # "open", "upcoming" or "closed"
    applications: int
    envelope: Decimal
    committed: Decimal


def call_summaries(now: datetime) -> list[CallSummary]:
    """Every call, the open ones first, then the most recently opened."""
    calls = calls_open_first(now)
    counts = dict(db.session.execute(
        select(Application.call_id, func.count())
        .where(Application.submitted_at.is_not(None))
        .group_by(Application.call_id)
    ).all())
    money = {
        call_id: (envelope, committed)
        for call_id, envelope, committed in db.session.execute(
            select(CallVoucherType.call_id, func.sum(CallVoucherType.envelope),
                   func.sum(CallVoucherType.committed))
            .group_by(CallVoucherType.call_id)
        )
    }
    summaries = []
    for call in calls:
        if call.is_open(now):
            status = "open"
        elif call.opens_at > now:
            status = "upcoming"
        else:
            status = "closed"
        envelope, committed = money.get(call.id, (ZERO, ZERO))
        summaries.append(CallSummary(
            call=call, status=status, applications=counts.get(call.id, 0),
            envelope=Decimal(str(envelope or 0)).quantize(Decimal("0.01")),
            committed=Decimal(str(committed or 0)).quantize(Decimal("0.01")),
        ))
    return summaries
