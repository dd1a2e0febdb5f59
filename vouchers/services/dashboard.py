"""Figures for the manager's dashboards: a few aggregate queries, never work per row.

The budget figures and the count of applications received come from
``call_figures.type_figures``, the same reading the funder's workbook uses; what each
means is defined in ``vouchers/figures.py``. The money due (payments to make, recoveries
to collect) is counted with the SQL twins of services/settlement.py's figures
(services/money_due.py): one grouped query for every call shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload

from workflows.lifecycle import CANCELLED, STATES, VOUCHER_STATES

from ..extensions import db
from ..figures import received_clause
from ..models import Application, Call, Partner
from ..money import ZERO
from ..policy_partners import application_scope, partner_scope
from . import money_due, settlement, surveys
from .call_figures import TypeFigures, call_type_figures, type_figures
from .calls import calls_open_first

# The recoveries a call's dashboard lists by name; the count says how many there are.
RECOVERIES_LISTED = 10
MONEY_STATES = sorted(VOUCHER_STATES | {CANCELLED})


@dataclass(frozen=True)
class MoneyDue:
    """Per call: vouchers an advance or a final payment is due to, and recoveries due."""

    advances: int = 0
    final_payments: int = 0
    recoveries: int = 0
    # Of the payments due, those a prepared payment batch will pay once executed.
    in_batches: int = 0
    # (voucher, amount due back), the first RECOVERIES_LISTED by reference: the dashboard.
    recovery_list: tuple[tuple[Application, Decimal], ...] = ()

    @property
    def payments(self) -> int:
        return self.advances + self.final_payments

    @property
    def any(self) -> bool:
        return bool(self.payments or self.recoveries)


def money_due_of(call_ids: list[int], viewer: Any = None) -> dict[int, MoneyDue]:
    """{call id: MoneyDue} for every call with something due among the vouchers ``viewer``
    reaches (None: all): one grouped query."""
    if not call_ids:
        return {}
    a = Application
    rows = db.session.execute(
        select(a.call_id, *(func.sum(case((condition, 1), else_=0)) for condition in (
            money_due.advance_due(), money_due.final_due(), money_due.recovery_due(),
            and_(money_due.payment_due(), money_due.in_open_batch()))))
        # Money is owed either way only on vouchers (and cancelled ones): the state index.
        .where(a.call_id.in_(call_ids), a.state.in_(MONEY_STATES), application_scope(viewer))
        .group_by(a.call_id)
    )
    found = {}
    for call_id, *counts in rows:
        due = MoneyDue(*(int(n or 0) for n in counts))
        if due.any:
            found[call_id] = due
    return found


def recoveries_due(call: Call, limit: int = RECOVERIES_LISTED) -> list[tuple[Application,
                                                                            Decimal]]:
    """The first ``limit`` vouchers of ``call`` with money due back, and how much.

    The SQL condition finds them; the amount is settlement's own (a query or two per
    voucher listed, never more than ``limit``)."""
    found = db.session.scalars(
        select(Application).where(Application.call_id == call.id, money_due.recovery_due())
        .options(joinedload(Application.organisation))
        .order_by(Application.reference).limit(limit)
    )
    return [(a, settlement.recovery_due(a)) for a in found]


@dataclass
class CallDashboard:
    call: Call
    types: list[TypeFigures]
    # counts[state][voucher_type] over the applications received; drafts are counted apart.
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    money: MoneyDue = field(default_factory=MoneyDue)
    # The follow-up surveys' answers per voucher type and round (services/surveys.py).
    follow_up: list[surveys.FollowUpFigures] = field(default_factory=list)

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
    money = money_due_of([call.id]).get(call.id, MoneyDue())
    if money.recoveries:
        money = replace(money, recovery_list=tuple(recoveries_due(call)))
    return CallDashboard(call=call, types=call_type_figures(db.session, call.id), counts=counts,
                         money=money, follow_up=surveys.roll_up(db.session, call.id))


@dataclass(frozen=True)
class CallSummary:
    call: Call
    status: str  # "open", "upcoming" or "closed": Call.status
    applications: int  # received
    # The programme's budget figures; None for a partner manager, whose figures are its
    # partner's applications only.
    envelope: Decimal | None
    committed: Decimal | None
    money: MoneyDue = field(default_factory=MoneyDue)


def _partner_summaries(calls: list[Call], now: datetime, scope: int,
                       viewer: Any) -> list[CallSummary]:
    """A partner manager's calls (its programme's), counting its partner's SMEs only."""
    programme_id = db.session.get(Partner, scope).programme_id
    calls = [c for c in calls if c.programme_id == programme_id]
    a = Application
    received = dict(db.session.execute(
        select(a.call_id, func.count())
        .where(a.call_id.in_([c.id for c in calls]), a.partner_id == scope,
               received_clause(a.state, a.submitted_at))
        .group_by(a.call_id)).all())
    due = money_due_of([c.id for c in calls], viewer)
    return [CallSummary(call=c, status=c.status(now), applications=received.get(c.id, 0),
                        envelope=None, committed=None, money=due.get(c.id, MoneyDue()))
            for c in calls]


def call_summaries(now: datetime, viewer: Any = None) -> list[CallSummary]:
    """Every call ``viewer`` follows, the open ones first, then the most recently opened
    (None, as for a command: every call, whole)."""
    calls = calls_open_first(now)
    scope = partner_scope(viewer)
    if scope is not None:
        return _partner_summaries(calls, now, scope, viewer)
    figures = type_figures(db.session, [call.id for call in calls])
    due = money_due_of([call.id for call in calls])
    summaries = []
    for call in calls:
        types = figures[call.id]
        summaries.append(CallSummary(
            call=call, status=call.status(now),
            applications=sum(t.received for t in types),
            envelope=sum((t.envelope for t in types), ZERO),
            committed=sum((t.committed for t in types), ZERO),
            money=due.get(call.id, MoneyDue()),
        ))
    return summaries
