"""The one reading of a call's figures per voucher type, for the dashboard and the workbook.

Two grouped queries, whatever the number of applications: the call voucher types, and the
applications counted per (call, type). Committed money, paid money and the quota places
used (awarded) are the counters on the call voucher types (``CallVoucherType.committed``,
``paid``, ``awarded_count``): services/ledger.py moves them with every ledger entry, so
they are the ledger's sums (the workbook's Ledger sheet shows them side by side, and
``flask ledger`` and the tests hold them to it). Summing the vouchers' awarded amounts
instead would count money released at close-out or cancellation as still committed.

``executor`` is anything with ``execute``: the request's session, or the workbook's
connection reading one snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select

from workflows.lifecycle import DRAFT

from .. import voucher_types
from ..figures import BudgetFigures, received_clause
from ..models import Application, CallVoucherType
from ..money import CENT


@dataclass(frozen=True, kw_only=True)
class TypeFigures(BudgetFigures):
    """One voucher type of a call: its allocation, the money used and the applications."""

    voucher_type: str
    label: str
    funding_rate: Decimal
    received: int  # submitted, drafts not counted
    drafts: int
    applications: int  # every application, whatever its state (the workbook lists them all)

    @property
    def used(self) -> int:
        # The quota used: the dashboard's tests say "used" for the vouchers awarded.
        return self.awarded

    def share(self, amount: Decimal) -> float:
        """``amount`` as a fraction of the envelope, for the dashboard's chart."""
        return float(amount / self.envelope) if self.envelope else 0.0

    def quota_share(self, count: int) -> float:
        return count / self.quota if self.quota else 0.0


def _money(value: Any) -> Decimal:
    # The counters are Money columns (Decimal on both databases); str() keeps any other
    # numeric type a caller's executor hands back exact to the cent.
    return Decimal(str(value or 0)).quantize(CENT)


def type_figures(
    executor, call_ids: Iterable[int], chosen: Iterable[str] = ()
) -> dict[int, list[TypeFigures]]:
    """Per call id, its voucher types' figures in the call's order (only ``chosen`` if any)."""
    ids = list(call_ids)
    chosen = tuple(chosen)
    t, a = CallVoucherType, Application
    type_conditions = [t.call_id.in_(ids)]
    app_conditions = [a.call_id.in_(ids)]
    if chosen:
        type_conditions.append(t.voucher_type.in_(chosen))
        app_conditions.append(a.voucher_type.in_(chosen))
    counted = {
        (row.call_id, row.voucher_type): row
        for row in executor.execute(
            select(
                a.call_id,
                a.voucher_type,
                func.count().label("applications"),
                func.count(case((received_clause(a.state, a.submitted_at), a.id)))
                .label("received"),
                func.count(case((a.state == DRAFT, a.id))).label("drafts"),
            )
            .where(*app_conditions)
            .group_by(a.call_id, a.voucher_type)
        )
    }
    figures: dict[int, list[TypeFigures]] = {call_id: [] for call_id in ids}
    for row in executor.execute(
        select(t.call_id, t.voucher_type, t.quota, t.envelope, t.funding_rate, t.committed,
               t.paid, t.awarded_count)
        .where(*type_conditions)
        .order_by(t.call_id, t.position, t.id)
    ):
        c = counted.get((row.call_id, row.voucher_type))
        figures[row.call_id].append(TypeFigures(
            voucher_type=row.voucher_type,
            label=voucher_types.label(row.voucher_type),
            quota=row.quota,
            envelope=row.envelope,
            funding_rate=row.funding_rate,
            awarded=row.awarded_count,
            committed=_money(row.committed),
            paid=_money(row.paid),
            received=c.received if c else 0,
            drafts=c.drafts if c else 0,
            applications=c.applications if c else 0,
        ))
    return figures


def call_type_figures(executor, call_id: int, chosen: Iterable[str] = ()) -> list[TypeFigures]:
    """The figures of one call's voucher types."""
    return type_figures(executor, [call_id], chosen)[call_id]
