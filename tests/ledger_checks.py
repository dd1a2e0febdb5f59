"""The books balance: what every money test asserts after every step."""

from __future__ import annotations

from sqlalchemy import select

from vouchers.extensions import db
from vouchers.models import Application, Call
from vouchers.money import ZERO
from vouchers.services import ledger, settlement


def assert_books_balance() -> None:
    """Counters equal the ledger's sums, per type and per voucher, and no amount is out
    of its bounds: 0 <= paid <= committed = awarded - released <= awarded."""
    for call_id in db.session.scalars(select(Call.id)):
        for totals in ledger.totals(call_id):
            assert totals.matches, totals.differences()
            assert ZERO <= totals.paid <= totals.committed <= totals.cvt.envelope
            assert 0 <= totals.quota_used <= totals.cvt.quota
        assert ledger.voucher_differences(call_id) == []
    for a in db.session.scalars(select(Application).where(
            Application.awarded_amount.is_not(None))):
        assert ZERO <= a.released_amount <= a.awarded_amount, a.reference
        assert ZERO <= a.paid_amount <= a.committed_amount, a.reference
        if a.state in settlement.CLOSED_STATES:
            payable = settlement.payable(a)
            # What was paid beyond the payable amount is an advance due back.
            assert a.paid_amount <= payable + settlement.recovery_due(a), a.reference
            assert a.committed_amount == max(payable, a.paid_amount), a.reference
