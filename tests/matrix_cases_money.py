"""Authorization-matrix cases of issue 9 (money); see tests/matrix_cases.py.

``world_args`` gives the world of tests/test_authorization_matrix.py a ``payment_id`` for
the reversal route's URL: the payment of a paid voucher. It is not the world's own
application's (that one is only submitted), so the route answers 404 to everyone at that
URL (the payment does not belong to the URL's application) before its permission is
asked; the success cases below post to a payment's own voucher.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from tests.matrix_cases import Post, case, count, url
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import LedgerEntry, Payment
from vouchers.services import payments, transitions


def _paid(make, manager=None):
    """A paid voucher (the factory's: 60,000 awarded and paid) and its one payment."""
    application = make.application("paid", manager=manager)
    payment = db.session.scalars(
        select(Payment).where(Payment.application_id == application.id)).one()
    return application, payment


def world_args(make, manager) -> dict:
    """The world's ``payment_id``: a payment of a paid voucher of its own call."""
    _, payment = _paid(make, manager)
    return {"payment_id": payment.id}


@case("manager.reverse_payment")
def _(make):
    manager = make.manager()
    application, payment = _paid(make, manager)
    return Post("manager", manager,
                url("manager.reverse_payment", application_id=application.id,
                    payment_id=payment.id),
                data={f"reverse-{payment.id}-reason": "The bank returned the transfer."},
                done=lambda: application.state == "completed"
                and count(LedgerEntry, LedgerEntry.payment_id == payment.id,
                          LedgerEntry.kind == "reversal") == 1)


@case("manager.record_recovery")
def _(make):
    """A voucher cancelled after its advance: the advance is due back."""
    manager = make.manager()
    call = make.call()
    call.advance_share = Decimal("0.5")
    db.session.commit()
    application = make.application("awarded", call.voucher_type("market_validation"),
                                    manager=manager)
    payments.record_payment(application, manager, "30000", paid_on=today(),
                            reference="ADV-1", kind="advance")
    transitions.cancel(application, manager, "The study was called off.")
    db.session.commit()
    return Post("manager", manager,
                url("manager.record_recovery", application_id=application.id),
                data={"record_recovery-amount": "30000.00",
                      "record_recovery-received_on": today().isoformat(),
                      "record_recovery-reference": "SME-REFUND-1"},
                done=lambda: application.paid_amount == Decimal("0.00")
                and count(LedgerEntry, LedgerEntry.application_id == application.id,
                          LedgerEntry.kind == "recovery") == 1)
