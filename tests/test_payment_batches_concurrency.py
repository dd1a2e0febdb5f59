"""Two managers at the same moment: a batch's payments are recorded once, a voucher sits in
one open batch.

Each actor has its own app context (its own session and connection), as two requests
would; a barrier releases them together. Run on SQLite (a file) and on PostgreSQL (skipped
when no server answers, as in tests/test_concurrency.py, whose fixture this borrows).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from tests import test_concurrency
from tests.factories import Factories
from tests.helpers import at_once
from tests.ledger_checks import assert_books_balance
from tests.test_payment_batches import due_voucher, give_debtor
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, BatchItem, Call, Payment, PaymentBatch, User
from vouchers.services import batch_files
from vouchers.services import payment_batches as pb

ROUNDS = 3
concurrent_app = test_concurrency.concurrent_app


def _world(app, vouchers: int = 3, batch: bool = True) -> dict:
    with app.app_context():
        make = Factories()
        call = make.call()
        give_debtor(call.programme)
        managers = [make.manager(), make.manager()]
        cvt = call.voucher_type("travel")
        ids = [due_voucher(make, cvt, managers[0], n).id for n in range(vouchers)]
        world = {"call": call.id, "managers": [m.id for m in managers], "ids": ids}
        if batch:
            prepared = pb.prepare_batch(call, managers[0], ids, today())
            db.session.commit()
            world["batch"] = prepared.id
        db.session.remove()
        return world


def _at_once(app, jobs: list[Callable[[], str]]) -> list[str]:
    """The jobs released together (tests.helpers.at_once); none may end in an error."""
    outcomes = at_once(app, jobs)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    return outcomes


def _execute(world, manager: int, reference: str) -> Callable[[], str]:
    def job() -> str:
        batch = db.session.get(PaymentBatch, world["batch"])
        pb.execute_batch(batch, db.session.get(User, world["managers"][manager]), reference,
                         today())
        return "executed"
    return job


def _download(world) -> Callable[[], str]:
    def job() -> str:
        return batch_files.sepa_xml(db.session.get(PaymentBatch, world["batch"])).decode()
    return job


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_simultaneous_executions_record_each_payment_once(concurrent_app, round_):
    app = concurrent_app
    world = _world(app)
    outcomes = _at_once(app, [_execute(world, 0, "BANK-A"), _execute(world, 1, "BANK-B"),
                              _download(world), _download(world)])
    executions, downloads = outcomes[:2], outcomes[2:]
    assert sorted(o.split(":")[0] for o in executions) == ["executed", "refused"], outcomes
    refusal = next(o for o in executions if o.startswith("refused"))
    assert "already recorded as executed" in refusal and "Nothing changed" in refusal
    assert downloads[0] == downloads[1] and "<MsgId>VCH-" in downloads[0]
    winner = "BANK-A" if executions[0] == "executed" else "BANK-B"
    with app.app_context():
        batch = db.session.get(PaymentBatch, world["batch"])
        assert (batch.status, batch.bank_reference) == ("executed", winner)
        paid = db.session.execute(select(Payment.batch_item_id, Payment.reference)).all()
        assert sorted(paid) == sorted((item.id, winner) for item in batch.items)
        states = db.session.scalars(select(Application.state)
                                    .where(Application.id.in_(world["ids"])))
        assert set(states) == {"paid"}
        assert db.session.scalar(select(func.count()).select_from(BatchItem)
                                 .where(BatchItem.pending_application_id.is_not(None))) == 0
        assert_books_balance()


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_simultaneous_preparations_put_a_voucher_in_one_batch(concurrent_app, round_):
    app = concurrent_app
    world = _world(app, vouchers=3, batch=False)
    shared, only_first, only_second = world["ids"]

    def prepare(manager: int, ids: list[int]) -> Callable[[], str]:
        def job() -> str:
            call = db.session.get(Call, world["call"])
            batch = pb.prepare_batch(call, db.session.get(User, world["managers"][manager]),
                                     ids, today())
            return f"prepared {sorted(i.application_id for i in batch.items)}"
        return job

    outcomes = _at_once(app, [prepare(0, [shared, only_first]),
                              prepare(1, [only_second, shared])])
    assert sorted(o.split(" ")[0] for o in outcomes) == ["prepared", "refused:"], outcomes
    refusal = next(o for o in outcomes if o.startswith("refused"))
    # SQLite serialises the two (the second finds the voucher taken); on PostgreSQL the
    # second clashes on the unique index. Either way it says so, and nothing of it stays.
    assert ("already in a batch awaiting execution" in refusal
            or "put in another payment batch at the same moment" in refusal), refusal
    with app.app_context():
        held = db.session.execute(select(BatchItem.pending_application_id,
                                         BatchItem.batch_id)).all()
        assert db.session.scalar(select(func.count()).select_from(PaymentBatch)) == 1
        assert [a for a, _ in held].count(shared) == 1
        assert len({b for _, b in held}) == 1
        assert_books_balance()


def test_a_cancellation_racing_an_execution_leaves_one_outcome(concurrent_app):
    app = concurrent_app
    world = _world(app, vouchers=2)

    def cancel() -> str:
        batch = db.session.get(PaymentBatch, world["batch"])
        pb.cancel_batch(batch, db.session.get(User, world["managers"][1]))
        return "cancelled"

    outcomes = _at_once(app, [_execute(world, 0, "BANK-A"), cancel])
    assert sorted(o.split(":")[0] for o in outcomes) in (["executed", "refused"],
                                                         ["cancelled", "refused"]), outcomes
    with app.app_context():
        status = db.session.scalar(select(PaymentBatch.status))
        recorded = db.session.scalar(select(func.count()).select_from(Payment))
        assert (status, recorded) in (("executed", 2), ("cancelled", 0))
        assert_books_balance()
