"""settlement.due and settlement.recovery_due as SQL conditions, for lists and counts.

services/settlement.py decides what one voucher is owed or owes, in Python. A dashboard
counting 100,000 applications cannot ask it row by row, so this module says the same
thing as conditions on Application that one grouped query can count and a table can
filter on (tests/test_dashboard_money.py holds the two to each other, voucher by voucher).

Rounding: settlement rounds costs x rate and award x share half up at the cent. Rather
than round in SQL (SQLite rounds binary floats: ROUND(2.675, 2) is 2.67), the conditions
compare the unrounded product with the paid amount against half a cent. The product of
an amount (2 decimals) and a rate or share (Numeric(5, 4)) has at most 6 decimals, so
"rounds up to more than paid" is "exceeds paid by at least 0.005", which is "by more
than 0.0049995"; the margin of 0.0000005 is far above a float's error on any amount a
Numeric(12, 2) holds. Money columns are whole cents inside SQLite (models/base.Money),
so there the half cent is 0.5.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric, and_, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from workflows.lifecycle import ADVANCE_STATES, CANCELLED, CLOSED_STATES, COMPLETED

from ..extensions import db
from ..models import Application, BatchItem, Call, CallVoucherType, FinalReport

_A = Application
# "At least half a cent" and "more than half a cent", in euros (see the module's text).
_AT_LEAST_HALF_CENT = Decimal("0.0049995")
_MORE_THAN_HALF_CENT = Decimal("0.0050005")


def _cents(value: Decimal) -> ColumnElement:
    """``value`` euros in the unit money columns hold on this database."""
    if db.session.get_bind().dialect.name == "sqlite":
        value = value * 100
    return literal(value, Numeric(14, 7))


def _by_costs() -> ColumnElement:
    """Actual eligible costs x funding rate (unrounded), or NULL without reported costs."""
    r, t = FinalReport, CallVoucherType
    return (select(r.actual_costs * t.funding_rate)
            .where(r.application_id == _A.id, t.id == _A.call_voucher_type_id)
            .correlate(_A).scalar_subquery())


def advance_due() -> ColumnElement[bool]:
    """settlement.advance_due(a) > 0: the call's advance share of the award not yet paid."""
    share = (select(Call.advance_share).where(Call.id == _A.call_id)
             .correlate(_A).scalar_subquery())
    return and_(_A.state.in_(sorted(ADVANCE_STATES)),
                _A.awarded_amount * share - _A.paid_amount > _cents(_AT_LEAST_HALF_CENT))


def final_due() -> ColumnElement[bool]:
    """settlement.final_due(a) > 0: payable (costs x rate, at most the award) not yet paid."""
    return and_(_A.state == COMPLETED, _A.awarded_amount > _A.paid_amount,
                _by_costs() - _A.paid_amount > _cents(_AT_LEAST_HALF_CENT))


def payment_due() -> ColumnElement[bool]:
    """settlement.due(a) is not None: an advance or a final payment is due to the SME."""
    return or_(advance_due(), final_due())


def in_open_batch() -> ColumnElement[bool]:
    """settlement.in_open_batch(a): a prepared payment batch will pay the voucher."""
    return _A.id.in_(select(BatchItem.pending_application_id)
                     .where(BatchItem.pending_application_id.is_not(None)))


def recovery_due() -> ColumnElement[bool]:
    """settlement.recovery_due(a) > 0: the SME was paid more than the payable amount (or
    anything, on a cancelled voucher) and has not paid it back yet."""
    # paid <= awarded always, so paid > min(costs x rate, awarded) is paid > costs x rate.
    beyond_payable = _A.paid_amount - func.coalesce(_by_costs(), 0) > _cents(
        _MORE_THAN_HALF_CENT)
    return or_(
        and_(_A.state.in_(sorted(CLOSED_STATES)), _A.paid_amount > 0, beyond_payable),
        and_(_A.state == CANCELLED, _A.paid_amount > 0),
    )
