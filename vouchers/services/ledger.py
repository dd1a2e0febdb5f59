"""The one writer of money: every movement is a ledger entry and moves its counters.

``post`` writes the entry and, in the same transaction, moves the voucher's counters
(released_amount, paid_amount) and its call's voucher type's (committed, paid,
awarded_count) by the entry's amounts, with conditional updates whose WHERE clause is the
limit: two managers paying one voucher at the same moment cannot both pass it, on SQLite
or PostgreSQL. When the voucher's partner has its own share of that type's envelope
(PartnerShare), the share's ``committed`` moves with the type's, within the share.
``totals`` and ``differences`` read the sums back for the CLI, the
workbook and the tests that hold the counters to the ledger after every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import (
    Application,
    AuditRecord,
    CallVoucherType,
    LedgerEntry,
    Partner,
    PartnerShare,
    User,
)
from ..models.base import utcnow
from ..models.ledger import COMMITMENT
from ..money import ZERO
from . import budget
from .errors import BudgetExceeded, PaymentRefused
from .transaction import atomic
from .wording import eur, in_sentence

SHARE_CHECK = "ck_partner_shares_committed_in_share"


def post(application: Application, kind: str, *, actor: User | None, booked_on: date,
         committed: Decimal = ZERO, paid: Decimal = ZERO, quota: int = 0,
         paid_limit: Decimal | None = None, reason: str = "", reference: str = "",
         payment_id: int | None = None, now: datetime | None = None) -> LedgerEntry:
    """Book one movement on ``application`` (inside atomic()).

    ``paid_limit`` caps the voucher's paid amount after the entry (the payable amount, or
    the advance share before the report); the update refuses with PaymentRefused rather
    than pass it. A commitment is booked by ``book_award``, which also checks the envelope.
    """
    # The updates below bump the row's version: flush the ORM's pending changes first.
    db.session.flush()
    if kind != COMMITMENT:
        _move_voucher(application, committed, paid, paid_limit)
    _move_type(application.call_voucher_type, committed, paid, quota, kind)
    if committed:
        _move_share(application, committed)
    entry = LedgerEntry(
        application_id=application.id, call_voucher_type_id=application.call_voucher_type_id,
        kind=kind, committed=committed, paid=paid, quota=quota, booked_on=booked_on,
        at=now or utcnow(), actor_id=actor.id if actor else None, reason=reason.strip(),
        reference=reference.strip(), payment_id=payment_id,
    )
    db.session.add(entry)
    if kind != COMMITMENT:  # the award's own audit record tells the commitment
        db.session.add(AuditRecord(
            application_id=application.id, from_state=application.state,
            to_state=application.state, trigger=kind, actor_id=entry.actor_id, at=entry.at,
            comment=entry.reason or entry.reference, amount=abs(committed or paid),
        ))
    db.session.flush()
    return entry


def book_award(application: Application, actor: User, booked_on: date,
           now: datetime | None = None) -> LedgerEntry:
    """Book the award: its amount and one quota place, within envelope and quota."""
    return post(application, COMMITMENT, actor=actor, booked_on=booked_on,
                committed=application.awarded_amount, quota=1, now=now)


def _move_voucher(application: Application, committed: Decimal, paid: Decimal,
                  paid_limit: Decimal | None) -> None:
    a = Application.__table__
    released = a.c.released_amount - committed
    new_paid = a.c.paid_amount + paid
    # The version read with the facts this movement was decided on: a payment batch
    # prepared or a payment booked by someone else since then refuses it.
    query = (
        update(a).where(a.c.id == application.id, a.c.version == application.version,
                        released >= 0, new_paid >= 0, new_paid <= a.c.awarded_amount - released)
        .values(released_amount=released, paid_amount=new_paid, version=a.c.version + 1)
    )
    if paid_limit is not None:
        query = query.where(new_paid <= paid_limit)
    result = db.session.execute(query)
    db.session.expire(application, ["released_amount", "paid_amount", "version"])
    if result.rowcount != 1:
        raise PaymentRefused(
            _("The voucher's money changed at the same moment (another payment or release "
              "was recorded); nothing was booked. Reload the page to see what is due now."))


def _move_type(cvt: CallVoucherType, committed: Decimal, paid: Decimal, quota: int,
               kind: str) -> None:
    if kind == COMMITMENT:
        budget.reserve(cvt, committed)
        return
    t = CallVoucherType.__table__
    db.session.execute(
        update(t).where(t.c.id == cvt.id).values(
            committed=t.c.committed + committed, paid=t.c.paid + paid,
            awarded_count=t.c.awarded_count + quota)
    )
    db.session.expire(cvt, ["committed", "paid", "awarded_count"])


def _move_share(application: Application, committed: Decimal) -> None:
    """Move the partner's share of the type's envelope with the type's committed.

    Conditional like the envelope's: an award beyond the share matches no row and is
    refused; the CHECK is the last guard should this code be bypassed. A release the share
    does not hold (the voucher was awarded before the share existed and counted in it, or
    under another partner) leaves the share alone rather than drive it below zero.
    """
    if application.partner_id is None:
        return
    s = PartnerShare.__table__
    row = ((s.c.partner_id == application.partner_id)
           & (s.c.call_voucher_type_id == application.call_voucher_type_id))
    new = s.c.committed + committed
    limit = new <= s.c.envelope if committed > 0 else new >= 0
    partner = db.session.get(Partner, application.partner_id)
    refused = _("The database refused the award: the share of %(partner)s would be "
                "exceeded; nothing was saved.", partner=partner.name)
    with atomic(clashes={SHARE_CHECK: refused}):
        moved = db.session.execute(update(s).where(row, limit).values(committed=new))
        if moved.rowcount == 1 or committed < 0:
            return
        held = db.session.execute(select(s.c.envelope, s.c.committed).where(row)).first()
        if held is None:  # the partner has no share of this type: the envelope is the limit
            return
        envelope, used = held
        cvt = application.call_voucher_type
        raise BudgetExceeded(
            _("Awarding %(amount)s would exceed the %(type)s share of %(partner)s: %(left)s "
              "of its %(envelope)s remains.", amount=eur(committed),
              type=in_sentence(cvt.label), partner=partner.name, left=eur(envelope - used),
              envelope=eur(envelope)))


def entries_of(application: Application) -> list[LedgerEntry]:
    """The voucher's entries in the order they were booked."""
    return list(db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.application_id == application.id)
        .order_by(LedgerEntry.id)
    ))


@dataclass(frozen=True)
class TypeTotals:
    """One call voucher type's ledger sums next to its counters."""

    cvt: CallVoucherType
    committed: Decimal
    paid: Decimal
    quota_used: int

    @property
    def matches(self) -> bool:
        return (self.committed == self.cvt.committed and self.paid == self.cvt.paid
                and self.quota_used == self.cvt.awarded_count)

    def differences(self) -> list[str]:
        label = f"{self.cvt.call.code} {self.cvt.label}"
        out = []
        for name, ledger_value, counter in (
                ("committed", self.committed, self.cvt.committed),
                ("paid", self.paid, self.cvt.paid),
                ("awarded count", self.quota_used, self.cvt.awarded_count)):
            if ledger_value != counter:
                out.append(f"{label}: {name} is {counter} on the counter but {ledger_value} "
                           "in the ledger")
        return out


def totals(call_id: int) -> list[TypeTotals]:
    """The ledger's sums per voucher type of a call, in the call's order of types."""
    e = LedgerEntry
    sums = {
        type_id: (Decimal(committed or 0), Decimal(paid or 0), int(quota or 0))
        for type_id, committed, paid, quota in db.session.execute(
            select(e.call_voucher_type_id, func.sum(e.committed), func.sum(e.paid),
                   func.sum(e.quota))
            .join(CallVoucherType, CallVoucherType.id == e.call_voucher_type_id)
            .where(CallVoucherType.call_id == call_id)
            .group_by(e.call_voucher_type_id)
        )
    }
    types = db.session.scalars(select(CallVoucherType).where(CallVoucherType.call_id == call_id)
                               .order_by(CallVoucherType.position, CallVoucherType.id))
    out = []
    for cvt in types:
        committed, paid, quota = sums.get(cvt.id, (ZERO, ZERO, 0))
        out.append(TypeTotals(cvt, _cents(committed), _cents(paid), quota))
    return out


def voucher_differences(call_id: int) -> list[str]:
    """Vouchers of the call whose counters differ from their own entries."""
    e, a = LedgerEntry, Application
    # From every voucher ever awarded: one with no entry at all differs too.
    rows = db.session.execute(
        select(a.reference, a.awarded_amount, a.released_amount, a.paid_amount,
               func.sum(e.committed), func.sum(e.paid))
        .outerjoin(e, e.application_id == a.id)
        .where(a.call_id == call_id, a.awarded_amount.is_not(None))
        .group_by(a.id, a.reference, a.awarded_amount, a.released_amount, a.paid_amount)
    )
    out = []
    for reference, awarded, released, paid, ledger_committed, ledger_paid in rows:
        held = (awarded or ZERO) - released
        if _cents(ledger_committed) != held or _cents(ledger_paid) != paid:
            out.append(f"{reference}: holds {held} and paid {paid}, but the ledger says "
                       f"{_cents(ledger_committed)} and {_cents(ledger_paid)}")
    return out


def _cents(value) -> Decimal:
    # SUM keeps the Money column type, so both databases give Decimal (or None).
    return ZERO if value is None else Decimal(value).quantize(Decimal("0.01"))
