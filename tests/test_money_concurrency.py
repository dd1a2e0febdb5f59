"""Two managers booking the same money at the same moment: it is booked once.

Each manager has its own app context (its own session and connection), as two requests
would; a barrier releases them together. Run on SQLite (a file) and on PostgreSQL
(skipped when no server answers, as in tests/test_concurrency.py, whose fixture this
borrows).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from tests import test_concurrency
from tests.factories import Factories
from tests.helpers import at_once
from tests.ledger_checks import assert_books_balance
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, LedgerEntry, Payment, User
from vouchers.models.ledger import ADVANCE, PAYMENT, RECOVERY, REVERSAL
from vouchers.services import payments, reporting, settlement

concurrent_app = test_concurrency.concurrent_app
MANAGERS = 2
TRAVEL = {"travel": (12, "5000", "1.00", "60000")}
# What the one who comes second reads: a sentence, not a traceback.
CLEAR = ("already paid in full", "changed at the same moment", "already reversed",
         "more than the", "Nothing is due back", "already recorded")


def _race(app, load, act) -> list[str]:
    """From one thread per manager at once: ``load()`` what the page loaded, then, all
    together, ``act(manager, loaded)``; each outcome is "booked" or the refusal.

    As in a request, the objects are loaded (and what is due read) before the service
    runs: the service's own checks must hold against a colleague's write in between.
    """
    with app.app_context():
        manager_ids = [Factories().user("manager", email=f"racer{n}@test.example").id
                       for n in range(MANAGERS)]

    def job(manager_id):
        def read_page():
            return db.session.get(User, manager_id), load()

        def book(loaded):
            act(*loaded)
            return "booked"

        return read_page, book

    return at_once(app, [job(m) for m in manager_ids])


def _one_booked(outcomes: list[str]) -> None:
    assert len(outcomes) == MANAGERS, outcomes
    assert outcomes.count("booked") == 1, outcomes
    refusal = next(o for o in outcomes if o != "booked")
    assert any(words in refusal for words in CLEAR), refusal


def _voucher(app, *, share: str | None = None, costs: str = "2890.40",
             advance: str | None = None) -> int:
    """A travel voucher of 2,960.50 reported at ``costs`` and approved, after an
    ``advance`` where the call pays one."""
    with app.app_context():
        make = Factories()
        call = make.call(TRAVEL)
        call.advance_share = Decimal(share) if share else None
        db.session.commit()
        manager = make.manager()
        voucher = make.application("awarded", call.voucher_type("travel"), manager=manager,
                                   requested="2960.50", costs="2960.50")
        if advance:
            payments.record_payment(voucher, manager, Decimal(advance), paid_on=today(),
                                    reference="ADV-1", kind=ADVANCE)
        reporting.start_reporting(voucher, voucher.applicant)
        reporting.save_final_report(voucher, voucher.applicant, summary="Done.",
                                    actual_costs=costs)
        reporting.submit_final_report(voucher, voucher.applicant)
        reporting.approve_report(voucher, manager)
        db.session.commit()
        return voucher.id


def _entries(app, voucher_id, kind) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.application_id == voucher_id, LedgerEntry.kind == kind))


def test_two_managers_recording_the_same_final_payment_pay_it_once(concurrent_app):
    voucher_id = _voucher(concurrent_app)

    def load():
        voucher = db.session.get(Application, voucher_id)
        assert settlement.due(voucher) == ("payment", Decimal("2890.40"))
        return voucher

    def record(manager, voucher):
        payments.record_payment(voucher, manager, Decimal("2890.40"), paid_on=today(),
                                reference="BANK-7")

    _one_booked(_race(concurrent_app, load, record))
    with concurrent_app.app_context():
        voucher = db.session.get(Application, voucher_id)
        assert (voucher.state, voucher.paid_amount, voucher.outstanding) == (
            "paid", Decimal("2890.40"), Decimal("0.00"))
        assert [p.amount for p in db.session.scalars(select(Payment))] == [Decimal("2890.40")]
        assert voucher.call_voucher_type.paid == Decimal("2890.40")
        assert_books_balance()
    assert _entries(concurrent_app, voucher_id, PAYMENT) == 1


def test_two_managers_recording_the_same_advance_pay_it_once(concurrent_app):
    with concurrent_app.app_context():
        make = Factories()
        call = make.call(TRAVEL)
        call.advance_share = Decimal("0.5")
        db.session.commit()
        voucher_id = make.application("awarded", call.voucher_type("travel"),
                                      requested="2000", costs="2000").id

    def load():
        voucher = db.session.get(Application, voucher_id)
        assert settlement.due(voucher) == ("advance", Decimal("1000.00"))
        return voucher

    def record(manager, voucher):
        payments.record_payment(voucher, manager, Decimal("1000.00"), paid_on=today(),
                                reference="ADV-1", kind=ADVANCE)

    _one_booked(_race(concurrent_app, load, record))
    with concurrent_app.app_context():
        voucher = db.session.get(Application, voucher_id)
        assert voucher.paid_amount == Decimal("1000.00")
        assert settlement.advance_due(voucher) == 0
        assert_books_balance()
    assert _entries(concurrent_app, voucher_id, ADVANCE) == 1


def test_two_managers_reversing_the_same_payment_reverse_it_once(concurrent_app):
    voucher_id = _voucher(concurrent_app)
    with concurrent_app.app_context():
        voucher = db.session.get(Application, voucher_id)
        manager = Factories().user("manager", email="first@test.example")
        payment_id = payments.record_payment(voucher, manager, Decimal("2890.40"),
                                             paid_on=today(), reference="BANK-7").id
        db.session.commit()

    def load():
        payment = db.session.get(Payment, payment_id)
        assert payments.reversed_payment_ids(payment.application) == set()
        return payment

    def reverse(manager, payment):
        payments.reverse_payment(payment, manager, "Returned by the bank.")

    _one_booked(_race(concurrent_app, load, reverse))
    with concurrent_app.app_context():
        voucher = db.session.get(Application, voucher_id)
        assert (voucher.state, voucher.paid_amount) == ("completed", Decimal("0.00"))
        assert_books_balance()
    assert _entries(concurrent_app, voucher_id, REVERSAL) == 1


def test_two_managers_recording_the_same_recovery_recover_it_once(concurrent_app):
    # Advance 1,480.25 (50%), payable 1,000: 480.25 is due back from the SME.
    voucher_id = _voucher(concurrent_app, share="0.5", costs="1000.00", advance="1480.25")

    def load():
        voucher = db.session.get(Application, voucher_id)
        assert settlement.recovery_due(voucher) == Decimal("480.25")
        return voucher

    def recover(manager, voucher):
        payments.record_recovery(voucher, manager, Decimal("480.25"), received_on=today(),
                                 reference="BACK-1")

    _one_booked(_race(concurrent_app, load, recover))
    with concurrent_app.app_context():
        voucher = db.session.get(Application, voucher_id)
        assert (voucher.paid_amount, voucher.committed_amount) == (Decimal("1000.00"),
                                                                   Decimal("1000.00"))
        assert settlement.recovery_due(voucher) == 0
        assert_books_balance()
    assert _entries(concurrent_app, voucher_id, RECOVERY) == 1
