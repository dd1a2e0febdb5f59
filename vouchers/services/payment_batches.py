"""Payments due and SEPA credit-transfer batches: prepared, downloaded, executed once.

A manager selects the payments due of a call (advances after the award, final payments
after the report: services/settlement.due) and prepares a batch: each transfer is a
BatchItem holding the amount and the bank details it was prepared with, and the voucher's
id in ``pending_application_id``, whose unique index keeps a voucher in one open batch.
The batch's SEPA file (services/batch_files.py) can be downloaded any number of times: it
is rebuilt from the batch, the same message id and the same transfers, and records
nothing. Once the bank has executed it the manager marks it executed, which records each
transfer as a payment (services/payments.record_payment) exactly once: the status moves
from prepared by a conditional UPDATE, so of two executions at the same moment one does
it and the other is told, and Payment.batch_item_id is unique as a backstop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from flask_babel import gettext as _
from flask_babel import lazy_gettext, lazy_pgettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from exports import sepa_file
from workflows import lifecycle

from .. import policy
from ..clock import local_date, today
from ..extensions import db
from ..i18n import N_, translated
from ..models import Application, BatchItem, Call, PaymentBatch, User
from ..models.base import utcnow
from ..models.ledger import ADVANCE, BATCH_CANCELLED, BATCH_EXECUTED, BATCH_PREPARED, PAYMENT
from ..money import ZERO
from ..text import clean_line
from . import batch_files, payments, rates, settlement
from .errors import ConcurrentChange, InvalidInput, PaymentRefused
from .transaction import CONCURRENT_MESSAGE, atomic
from .wording import day, eur

NOT_ALLOWED = "Only a programme manager prepares and records payment batches."
# The kinds as the remittance text and the API write them (English, for the bank and
# the machines); as a page shows them, in the reader's language.
KIND_LABELS = {ADVANCE: "advance", PAYMENT: "final payment"}
KIND_SHOWN = {ADVANCE: lazy_gettext("Advance"), PAYMENT: lazy_gettext("Final payment")}
# A batch has its own context: "Cancelled" is feminine for an application in Catalan and
# Spanish, masculine for a batch (un lot, un lote).
STATUS_LABELS = {BATCH_PREPARED: lazy_pgettext("payment batch", "Awaiting execution"),
                 BATCH_EXECUTED: lazy_pgettext("payment batch", "Executed"),
                 BATCH_CANCELLED: lazy_pgettext("payment batch", "Cancelled")}
MAX_DAYS_AHEAD = 365
MAX_BANK_REFERENCE = 60  # Payment.reference and LedgerEntry.reference hold 60
PREPARE_CLASH = {
    "uq_batch_items_pending_application_id": (
        N_("A selected voucher was put in another payment batch at the same moment; "
           "nothing was prepared. Reload the page to see what is still due.")),
}


@dataclass(frozen=True)
class Due:
    """Money due now on one voucher, with the bank details it would be paid to."""

    application: Application
    kind: str  # "advance" or "payment"
    amount: Decimal
    iban: str = ""
    bic: str = ""
    account_holder: str = ""
    problem: str | None = None  # why it cannot go into a batch, or None

    @property
    def selectable(self) -> bool:
        return self.problem is None

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def shown_label(self) -> str:
        return str(KIND_SHOWN[self.kind])


@dataclass(frozen=True)
class BatchSummary:
    batch: PaymentBatch
    count: int
    total: Decimal

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.batch.status])


def _candidates(call: Call, *, fresh: bool = False, eur: bool = True) -> list[Application]:
    """The vouchers of ``call`` that may have money due (completed; where the call pays
    advances, awarded and not yet approved), in euros as SEPA pays; ``eur=False``: in
    another currency, which their partner pays them itself, one by one."""
    states = {lifecycle.COMPLETED} | (set(settlement.ADVANCE_STATES)
                                      if call.advance_share else set())
    in_euros = Application.currency == rates.EUR
    query = (select(Application)
             .where(Application.call_id == call.id, Application.state.in_(states),
                    in_euros if eur else ~in_euros)
             .options(joinedload(Application.organisation),
                      joinedload(Application.call_voucher_type))
             .order_by(Application.reference))
    if fresh:  # deciding a write: what is committed now, not what the session holds
        query = query.execution_options(populate_existing=True)
    return list(db.session.scalars(query))


def partner_paid_currencies(call: Call) -> list[str]:
    """The other currencies of the call's vouchers, paid outside the SEPA batches."""
    return sorted({a.currency for a in _candidates(call, eur=False)})


def pending_ids(call: Call) -> set[int]:
    """The vouchers of ``call`` waiting in a batch prepared and not executed yet."""
    return set(db.session.scalars(
        select(BatchItem.pending_application_id)
        .join(Application, Application.id == BatchItem.pending_application_id)
        .where(Application.call_id == call.id)))


def _dues(call: Call, *, fresh: bool = False) -> tuple[list[Due], set[int]]:
    """(every voucher with money due now and not in an open batch, the ids in one)."""
    candidates = _candidates(call, fresh=fresh)
    pending = pending_ids(call)
    changing = batch_files.changes_pending({a.organisation_id for a in candidates})
    dues = []
    for application in candidates:
        if application.id in pending:
            continue
        # One query per completed voucher (its report); the advance states need none.
        owed = settlement.due(application)
        if owed is None:
            continue
        kind, amount = owed
        account = batch_files.bank_details(application,
                                           application.organisation_id in changing)
        dues.append(Due(application, kind, amount, **account))
    return dues, pending


def due_payments(call: Call) -> list[Due]:
    """Every voucher of ``call`` with money due now that is not in an open batch; those
    without (valid) bank details are listed with the reason and cannot be selected."""
    return _dues(call)[0]


def batches_of(call: Call) -> list[BatchSummary]:
    """The call's batches, the latest first, with their number of transfers and total."""
    rows = db.session.execute(
        select(PaymentBatch, func.count(BatchItem.id),
               func.coalesce(func.sum(BatchItem.amount), ZERO))
        .outerjoin(BatchItem, BatchItem.batch_id == PaymentBatch.id)
        .where(PaymentBatch.call_id == call.id)
        .group_by(PaymentBatch.id).order_by(PaymentBatch.id.desc()))
    return [BatchSummary(batch, count, Decimal(total)) for batch, count, total in rows]


def summary_of(batch: PaymentBatch) -> BatchSummary:
    return BatchSummary(batch, len(batch.items), sum((i.amount for i in batch.items), ZERO))


def calls_with_batches() -> list[tuple[Call, int, int]]:
    """Every call, the latest to open first, with its open and its executed batches."""
    open_ = func.count(PaymentBatch.id).filter(PaymentBatch.status == BATCH_PREPARED)
    done = func.count(PaymentBatch.id).filter(PaymentBatch.status == BATCH_EXECUTED)
    return [tuple(row) for row in db.session.execute(
        select(Call, open_, done).outerjoin(PaymentBatch, PaymentBatch.call_id == Call.id)
        .options(joinedload(Call.programme))
        .group_by(Call.id).order_by(Call.opens_at.desc(), Call.id.desc()))]


def check_execution_date(execution_date: date | None, on: date | None = None) -> None:
    """The execution day makes sense for a batch prepared ``on`` (today by default)."""
    on = on or today()
    if execution_date is None:
        raise InvalidInput(_("Give the day the bank should execute the transfers."))
    if execution_date < on:
        raise InvalidInput(_("The execution date %(day)s has passed: give today or a later "
                             "day.", day=day(execution_date)))
    if execution_date > on + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput(_("The execution date %(day)s is more than a year ahead: give the "
                             "day the bank should pay.", day=day(execution_date)))


def message_id(call: Call, batch_id: int) -> str:
    """VCH-<call code>-<batch id>: unique, the same however often the file is made."""
    tail = f"-{batch_id}"
    return "VCH-" + sepa_file.sepa_id(call.code, sepa_file.MAX_ID - 4 - len(tail)) + tail


def remittance(application: Application, kind: str) -> str:
    """What the SME reads on its statement: the voucher, the kind, the programme."""
    text = (f"Voucher {application.reference} {KIND_LABELS[kind]} "
            f"{application.call.programme.name}")
    return sepa_file.sepa_text(text, sepa_file.MAX_REMITTANCE)


def _refusals(call: Call, ids: list[int], dues: dict[int, Due], pending: set[int]) -> list[str]:
    found = {row.id: row for row in db.session.execute(
        select(Application.id, Application.reference, Application.currency)
        .where(Application.id.in_(ids), Application.call_id == call.id))}
    problems = []
    for application_id in ids:
        due, row = dues.get(application_id), found.get(application_id)
        if row is None:
            problems.append(_("Application %(id)s is not a voucher of call %(call)s.",
                              id=application_id, call=call.code))
        elif row.currency != rates.EUR:
            problems.append(_("%(reference)s: paid in %(currency)s by its partner, not SEPA.",
                              reference=row.reference, currency=row.currency))
        elif application_id in pending:
            problems.append(_("%(reference)s is already in a batch awaiting execution.",
                              reference=row.reference))
        elif due is None:
            problems.append(_("%(reference)s has nothing due now.", reference=row.reference))
        elif due.problem:
            problems.append(f"{row.reference}: {due.problem}")
    return problems


def _hold(applications: list[Application]) -> None:
    """Move each voucher's row version: a payment or a transition committed on one of them
    since it was read refuses this batch (and one coming after waits for it)."""
    for application in applications:
        version = application.version
        result = db.session.execute(
            update(Application).where(Application.id == application.id,
                                      Application.version == version)
            .values(version=version + 1))
        db.session.expire(application, ["version"])
        if result.rowcount != 1:
            raise ConcurrentChange(_(CONCURRENT_MESSAGE))


def prepare_batch(call: Call, actor: User, application_ids, execution_date: date | None,
                  now: datetime | None = None) -> PaymentBatch:
    """A batch of the selected payments due, to be executed on ``execution_date``."""
    now = now or utcnow()
    with atomic(translated(PREPARE_CLASH)):
        policy.ensure(policy.can_manage_payments(actor), NOT_ALLOWED)
        ids = list(dict.fromkeys(application_ids or ()))
        if not ids:
            raise InvalidInput(_("Select at least one payment for the SEPA file."))
        check_execution_date(execution_date, local_date(now))
        debtor = batch_files.debtor_of(call)
        db.session.flush()
        dues, pending = _dues(call, fresh=True)
        by_id = {d.application.id: d for d in dues}
        problems = _refusals(call, ids, by_id, pending)
        if problems:
            raise PaymentRefused(_("%(problems)s Nothing was prepared.",
                                   problems=" ".join(problems)))
        batch = PaymentBatch(call_id=call.id, execution_date=execution_date,
                             created_by_id=actor.id, created_at=now, debtor_name=debtor.name,
                             debtor_iban=debtor.iban, debtor_bic=debtor.bic or "",
                             message_id=f"VCH-NEW-{uuid4().hex[:24]}")
        db.session.add(batch)
        db.session.flush()
        batch.message_id = message_id(call, batch.id)
        for due in (by_id[i] for i in ids):
            batch.items.append(BatchItem(
                application_id=due.application.id, kind=due.kind, amount=due.amount,
                iban=due.iban, bic=due.bic, account_holder=due.account_holder,
                remittance=remittance(due.application, due.kind),
                pending_application_id=due.application.id))
        # The items first: a batch prepared at the same moment with one of these vouchers
        # clashes on the unique index (PREPARE_CLASH), then the vouchers are held.
        db.session.flush()
        _hold([by_id[i].application for i in ids])
    return batch


def _closed(batch: PaymentBatch, doing: str) -> PaymentRefused:
    """Why a batch that is no longer prepared cannot be ``doing`` (read as committed)."""
    db.session.refresh(batch)
    if batch.status == BATCH_EXECUTED:
        values = {"day": day(batch.executed_on), "reference": batch.bank_reference}
        if doing == "executed":
            return PaymentRefused(_(
                "This batch is already recorded as executed on %(day)s (bank reference "
                "%(reference)s): each of its payments was recorded once. Nothing changed.",
                **values))
        return PaymentRefused(_(
            "This batch is already recorded as executed on %(day)s (bank reference "
            "%(reference)s): each of its payments was recorded once. Nothing changed; to "
            "correct a payment, reverse it on its voucher.", **values))
    if doing == "executed":
        return PaymentRefused(_("This batch was cancelled, so it cannot be executed: nothing "
                                "changed. Prepare a new batch of the payments still due."))
    return PaymentRefused(_("This batch was cancelled, so it cannot be cancelled: nothing "
                            "changed. Prepare a new batch of the payments still due."))


def _set_status(batch: PaymentBatch, **values) -> bool:
    """Move the batch from prepared to ``values``; False when it is no longer prepared."""
    result = db.session.execute(
        update(PaymentBatch).where(PaymentBatch.id == batch.id,
                                   PaymentBatch.status == BATCH_PREPARED).values(**values))
    return result.rowcount == 1


def _release_items(batch: PaymentBatch) -> None:
    db.session.execute(update(BatchItem).where(BatchItem.batch_id == batch.id)
                       .values(pending_application_id=None))
    db.session.expire(batch)


def check_executed_on(batch: PaymentBatch, executed_on: date | None) -> None:
    if executed_on is None:
        raise InvalidInput(_("Give the day the bank executed the transfers."))
    if executed_on > today():
        raise InvalidInput(_("The execution day cannot be in the future."))
    prepared_on = local_date(batch.created_at)
    if executed_on < prepared_on:
        raise InvalidInput(_("The execution day cannot be before the batch was prepared "
                             "(%(day)s).", day=day(prepared_on)))


def execute_batch(batch: PaymentBatch, actor: User, bank_reference: str,
                  executed_on: date | None, now: datetime | None = None) -> PaymentBatch:
    """The bank executed the file: record each transfer as a payment, once."""
    now = now or utcnow()
    with atomic(translated(payments.PAYMENT_CLASH)):
        policy.ensure(policy.can_manage_payments(actor), NOT_ALLOWED)
        reference = clean_line(bank_reference, N_("the bank's reference of the execution"),
                               MAX_BANK_REFERENCE)
        check_executed_on(batch, executed_on)
        if not _set_status(batch, status=BATCH_EXECUTED, executed_at=now,
                           executed_by_id=actor.id, executed_on=executed_on,
                           bank_reference=reference):
            raise _closed(batch, "executed")
        db.session.expire(batch)
        for item in batch.items:
            try:
                payments.record_payment(item.application, actor, item.amount,
                                        paid_on=executed_on, reference=reference,
                                        kind=item.kind, batch_item=item, now=now)
            except (PaymentRefused, InvalidInput) as exc:
                raise PaymentRefused(_(
                    "%(reference)s (%(amount)s): %(problem)s Nothing was recorded; cancel the "
                    "batch and record this voucher's payment by hand.",
                    reference=item.application.reference, amount=eur(item.amount),
                    problem=exc.message)) from exc
        _release_items(batch)
    return batch


def cancel_batch(batch: PaymentBatch, actor: User) -> PaymentBatch:
    """Give up a batch the bank has not executed: its vouchers are due again."""
    with atomic():
        policy.ensure(policy.can_manage_payments(actor), NOT_ALLOWED)
        if not _set_status(batch, status=BATCH_CANCELLED):
            raise _closed(batch, "cancelled")
        _release_items(batch)
    return batch
