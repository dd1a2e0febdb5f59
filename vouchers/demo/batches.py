"""The demo's SEPA payment batches: one the bank executed, one awaiting execution.

Told last, after every voucher's story: a batch writes its records after the vouchers'
own in the audit trail, so it takes only vouchers whose last step came before it was
prepared. The executed batch (about two weeks ago) pays the advances due then and one
final payment, recorded with the bank's reference; the waiting one (two working days ago,
to be executed in two working days) holds a few of the payments due since. What is due
after that stays on the payments-due page for the manager to try.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from ..clock import local_date
from ..extensions import db
from ..models import AuditRecord, Call, PaymentBatch
from ..models.ledger import ADVANCE, PAYMENT
from ..services import payment_batches
from .story import Dated

WAITING_SIZE = 3


def _working_day(day: date, step: int = 1) -> date:
    """``day`` if a weekday, else the next (``step`` 1) or previous (-1) weekday."""
    while day.weekday() >= 5:
        day += timedelta(days=step)
    return day


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


def _last_steps() -> dict[int, datetime]:
    return {application_id: at for application_id, at in db.session.execute(
        select(AuditRecord.application_id, func.max(AuditRecord.at))
        .group_by(AuditRecord.application_id))}


def _dues_before(call: Call, moment: datetime):
    last = _last_steps()
    return [d for d in payment_batches.due_payments(call)
            if d.selectable and last[d.application.id] < moment]


def _prepare(call, manager, dated: Dated, ids, execution_date: date, at: datetime):
    with dated(at):
        return payment_batches.prepare_batch(call, manager, ids, execution_date, now=at)


def tell(call: Call, manager, dated: Dated, now: datetime, rng) -> list[PaymentBatch]:
    """The executed batch and the waiting one."""
    prepared_on = _working_day(local_date(now) - timedelta(days=12), -1)
    execution_date = _working_day(prepared_on + timedelta(days=1))
    prepared_at = _at(prepared_on, 9, 20)
    dues = _dues_before(call, prepared_at)
    # The advances due, and one final payment: the other completed vouchers wait.
    chosen = ([d for d in dues if d.kind == ADVANCE]
              + [d for d in dues if d.kind == PAYMENT][:1])
    assert len(chosen) >= 3, "too few payments due for the demo's executed batch"
    executed = _prepare(call, manager, dated, [d.application.id for d in chosen],
                        execution_date, prepared_at)
    # The bank's statement of the execution day is read the next working day.
    executed_at = _at(_working_day(execution_date + timedelta(days=1)), 10, 40)
    with dated(executed_at):
        payment_batches.execute_batch(
            executed, manager, f"CAIXESBB-{execution_date:%Y%m%d}-{rng.randrange(10**5, 10**6)}",
            execution_date, now=executed_at)

    waiting_on = _working_day(local_date(now) - timedelta(days=2), -1)
    waiting_at = _at(waiting_on, 14, 10)
    later = _dues_before(call, waiting_at)[:WAITING_SIZE]
    assert later, "no payment due for the demo's batch awaiting execution"
    waiting = _prepare(call, manager, dated, [d.application.id for d in later],
                       _working_day(local_date(now) + timedelta(days=2)), waiting_at)
    return [executed, waiting]
