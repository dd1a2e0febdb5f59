"""What each budget figure and count means, defined once.

The dashboard, the funder's workbook, the public call page and the models all take their
figures from here; ``services/call_figures.py`` is the one query that fills them from the
database. Pure code: no session, no Flask, so the models can use it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_

from workflows.lifecycle import DRAFT, VOUCHER_STATES

# The states in which an application is a voucher holding money of its envelope. A
# cancelled voucher gave its money back (budget.release), so it is not among them.
LIVE_VOUCHER_STATES: tuple[str, ...] = tuple(sorted(VOUCHER_STATES))


def is_received(state: str, submitted_at: object) -> bool:
    """An application is received once submitted; a draft never is."""
    return submitted_at is not None and state != DRAFT


def received_clause(state_column, submitted_at_column):
    """:func:`is_received` as a SQL condition on the given columns."""
    return and_(submitted_at_column.is_not(None), state_column != DRAFT)


def outstanding(committed: Decimal, paid: Decimal) -> Decimal:
    """Money committed to vouchers and not paid out yet (per voucher or in total)."""
    return committed - paid


@dataclass(frozen=True, kw_only=True)
class Allocation:
    """A voucher type's quota and envelope in a call, and how much of each is used."""

    quota: int
    awarded: int
    envelope: Decimal
    committed: Decimal

    @property
    def remaining_quota(self) -> int:
        return self.quota - self.awarded

    @property
    def remaining_envelope(self) -> Decimal:
        return self.envelope - self.committed

    @property
    def money_left(self) -> bool:
        return self.remaining_envelope > 0

    @property
    def vouchers_available(self) -> int:
        """Vouchers that can still be awarded: none once the envelope is spent."""
        if not self.money_left:
            return 0
        return max(self.remaining_quota, 0)


@dataclass(frozen=True, kw_only=True)
class BudgetFigures(Allocation):
    """An allocation with the money paid out of it."""

    paid: Decimal

    @property
    def outstanding(self) -> Decimal:
        return outstanding(self.committed, self.paid)
