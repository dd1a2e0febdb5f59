"""Authorization-matrix cases of issue 9 (payments); see tests/matrix_cases.py.

``world_args`` gives the world of tests/test_authorization_matrix.py the batch its batch
pages (``batch_id``) are drawn for: a prepared batch of one final payment, in a call of its
own, whose programme has its bank account, so the manager's GET of its SEPA file succeeds.
"""

from __future__ import annotations

from tests.matrix_cases import Post, case, count, url
from tests.test_payment_batches import due_voucher, give_debtor
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import BatchItem, PaymentBatch
from vouchers.services import payment_batches


def _prepared(make, manager=None):
    manager = manager or make.manager()
    call = make.call()
    give_debtor(call.programme)
    voucher = due_voucher(make, call.voucher_type("travel"), manager)
    batch = payment_batches.prepare_batch(call, manager, [voucher.id], today())
    db.session.commit()
    return batch, manager


def world_args(make, manager) -> dict:
    """The world's ``batch_id``: a batch awaiting execution."""
    batch, _ = _prepared(make, manager)
    return {"batch_id": batch.id}


def _status(batch_id: int) -> str:
    return db.session.get(PaymentBatch, batch_id).status


@case("manager.prepare_batch")
def _(make):
    call = make.call()
    give_debtor(call.programme)
    manager = make.manager()
    voucher_id = due_voucher(make, call.voucher_type("travel"), manager).id
    return Post("manager", manager, url("manager.prepare_batch", call_id=call.id),
                data={"application_ids": [str(voucher_id)],
                      "execution_date": today().isoformat()},
                done=lambda: count(BatchItem,
                                   BatchItem.pending_application_id == voucher_id) == 1)


@case("manager.execute_batch")
def _(make):
    batch, manager = _prepared(make)
    batch_id = batch.id
    return Post("manager", manager, url("manager.execute_batch", batch_id=batch_id),
                data={"bank_reference": "BANK-2027-0001", "executed_on": today().isoformat()},
                done=lambda: _status(batch_id) == "executed")


@case("manager.cancel_batch")
def _(make):
    batch, manager = _prepared(make)
    batch_id = batch.id
    return Post("manager", manager, url("manager.cancel_batch", batch_id=batch_id),
                done=lambda: _status(batch_id) == "cancelled")
