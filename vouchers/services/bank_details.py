"""The company's bank account: where its voucher payments go.

Before the company has a voucher its applicants give the details directly. After an
award money is about to be paid there, and new bank details "from the company" are the
classic way of diverting it: an applicant's change then waits as a BankDetailsChange
until a programme manager confirms it, and payments keep going to the confirmed account
meanwhile. A manager's own change applies at once (they are the ones who would confirm
it) and names where it comes from. Every step is a ChangeRecord in the company's history.

A second request while one waits replaces it: the earlier one is closed as refused
("replaced"), so an applicant who mistyped need not wait for a manager, and a manager
always decides exactly the details they were shown (a request is never edited; a stale
confirmation of a replaced one is refused). Giving the confirmed details again withdraws
the waiting request. Closing a request is a conditional UPDATE, so two decisions at the
same moment cannot both pass, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import joinedload

from .. import identifiers, policy
from ..extensions import db
from ..models import Application, ChangeRecord, Organisation, User
from ..models.base import utcnow
from ..models.ledger import BankDetailsChange, BatchItem
from ..text import clean_line, clean_reason
from . import undertaking
from .errors import ConcurrentChange, InvalidInput
from .organisations import MAX_REASON, ORGANISATION
from .transaction import CONCURRENT_MESSAGE, atomic
from .wording import N_

CONFIRMED, REFUSED = "confirmed", "refused"
# What happened, as the change records file it and the page says it.
SET, REQUEST, CONFIRM, REFUSE, REPLACE, WITHDRAW = (
    "bank_details", "bank_details_requested", "bank_details_confirmed",
    "bank_details_refused", "bank_details_replaced", "bank_details_withdrawn")
ACTION_LABELS = {SET: N_("Changed"), REQUEST: N_("Change asked for"),
                 CONFIRM: N_("Change confirmed"), REFUSE: N_("Change refused"),
                 REPLACE: N_("Change replaced by a newer one"), WITHDRAW: N_("Change withdrawn")}
BANK_ACTIONS = tuple(ACTION_LABELS)
# What set_bank_details did.
APPLIED, REQUESTED, WITHDRAWN = "applied", "requested", "withdrawn"
PENDING_UNIQUE = "uq_bank_details_changes_pending_organisation_id"
FIELDS = {"iban": N_("IBAN"), "bic": N_("BIC"), "account_holder": N_("account holder")}
HISTORY_SHOWN = 20
DECIDED_MESSAGE = N_("This change of bank details was decided or replaced a moment ago; "
                     "reload the page to see how.")


@dataclass(frozen=True)
class BankDetails:
    iban: str
    bic: str  # "" when none was given
    account_holder: str

    @property
    def iban_formatted(self) -> str:
        return identifiers.formatted_iban(self.iban)

    @classmethod
    def of(cls, row: Any) -> BankDetails | None:
        """The details an Organisation or a BankDetailsChange holds, if any."""
        if row is None or not row.iban:
            return None
        return cls(row.iban, row.bic or "", row.account_holder or "")


def clean(iban: str | None, bic: str | None, account_holder: str | None) -> BankDetails:
    """The details checked and compact; InvalidInput says what is wrong with which."""
    try:
        number = identifiers.iban(iban)
        code = identifiers.bic(bic, number)
    except identifiers.IdentifierError as exc:
        raise InvalidInput(str(exc)) from exc
    if code is None and identifiers.bic_needed(number):
        raise InvalidInput(_("Give the BIC of the account's bank: a SEPA transfer to an "
                             "account outside the European Economic Area needs it."))
    holder = clean_line(account_holder, N_("the account holder's name"),
                        identifiers.MAX_ACCOUNT_HOLDER)
    return BankDetails(number, code or "", holder)


def has_voucher(organisation: Organisation) -> bool:
    """Whether the company was ever awarded a voucher (money is or was to be paid)."""
    return bool(db.session.scalar(select(exists().where(
        Application.organisation_id == organisation.id,
        Application.awarded_amount.is_not(None)))))


def pending_change(organisation: Organisation) -> BankDetailsChange | None:
    return db.session.scalar(select(BankDetailsChange).where(
        BankDetailsChange.pending_organisation_id == organisation.id))


def _record(organisation: Organisation, actor: User, action: str, old: BankDetails | None,
            new: BankDetails | None, reason: str = "") -> None:
    def value(details, name):
        return getattr(details, name) if details is not None else ""

    changes = {name: [value(old, name), value(new, name)] for name in FIELDS
               if value(old, name) != value(new, name)}
    db.session.add(ChangeRecord(subject_type=ORGANISATION, subject_id=organisation.id,
                                action=action, actor_id=actor.id, reason=reason,
                                changes=changes))
    # The log names what happened, not the account numbers (the history keeps those).
    current_app.logger.info("%s: organisation %s by %s (%s), fields %s", action,
                            organisation.id, actor.email, actor.id, ", ".join(changes))


def _apply(organisation: Organisation, details: BankDetails, actor: User, action: str,
           reason: str) -> None:
    _record(organisation, actor, action, BankDetails.of(organisation), details, reason)
    organisation.iban, organisation.bic = details.iban, details.bic or None
    organisation.account_holder = details.account_holder


def _close(change: BankDetailsChange, outcome: str, actor: User, reason: str,
           action: str = REFUSE) -> None:
    """Decide ``change`` unless someone decided it first (then ConcurrentChange); a change
    not confirmed is recorded as ``action`` (refused, replaced or withdrawn)."""
    closed = db.session.execute(
        update(BankDetailsChange)
        .where(BankDetailsChange.id == change.id, BankDetailsChange.outcome.is_(None))
        .values(outcome=outcome, decided_by_id=actor.id, decided_at=utcnow(), reason=reason,
                pending_organisation_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if closed != 1:
        raise ConcurrentChange(_(DECIDED_MESSAGE))
    db.session.expire(change)
    if outcome == REFUSED:
        _record(change.organisation, actor, action, BankDetails.of(change.organisation),
                BankDetails.of(change), reason)


def set_bank_details(organisation: Organisation, actor: User, iban: str | None,
                     bic: str | None, account_holder: str | None, reason: str = "") -> str:
    """Give the company's bank details: APPLIED, REQUESTED (waiting for a manager) or
    WITHDRAWN (the confirmed details were given again while a change waited)."""
    policy.ensure(policy.can_edit_bank_details(actor, organisation),
                  "Only the company's applicants and the programme managers give its bank "
                  "details.")
    details = clean(iban, bic, account_holder)
    manager = policy.can_manage(actor, organisation)
    if manager:
        reason = clean_reason(reason, _("Say where the new bank details come from, such as "
                                        "the company's signed letter."), MAX_REASON)
    with atomic(clashes={PENDING_UNIQUE: _(CONCURRENT_MESSAGE)}):
        # The undertaking's lock, which every award takes: an award at the same moment
        # cannot slip between "no voucher yet" and applying the details unconfirmed.
        undertaking.lock(organisation.id)
        current, pending = BankDetails.of(organisation), pending_change(organisation)
        if pending is not None and details == BankDetails.of(pending) and not manager:
            raise InvalidInput(_("These bank details already await the programme managers' "
                                 "confirmation."))
        if details == current:
            if pending is None:
                raise InvalidInput(_("These are the company's bank details already: "
                                     "nothing changed."))
            _close(pending, REFUSED, actor, f"Withdrawn: the confirmed details stay. "
                   f"{reason}".strip(), WITHDRAW)
            return WITHDRAWN
        if pending is not None:
            _close(pending, REFUSED, actor, "Replaced by the details given next.", REPLACE)
        if manager or not has_voucher(organisation):
            _apply(organisation, details, actor, SET, reason)
            return APPLIED
        db.session.add(BankDetailsChange(
            organisation_id=organisation.id, iban=details.iban, bic=details.bic,
            account_holder=details.account_holder, requested_by_id=actor.id,
            pending_organisation_id=organisation.id))
        _record(organisation, actor, REQUEST, current, details)
    return REQUESTED


def _ensure_no_open_batch(organisation: Organisation) -> None:
    """A batch awaiting execution pays the account it was prepared with: confirming a new
    one under it would send a transfer to the account the company just gave up."""
    batch_id = db.session.scalar(
        select(BatchItem.batch_id).join(Application, Application.id == BatchItem.application_id)
        .where(Application.organisation_id == organisation.id,
               BatchItem.pending_application_id.is_not(None)).limit(1))
    if batch_id is not None:
        raise InvalidInput(_("Payment batch %(batch)s awaits execution and pays this "
                             "company's current account: record it as executed or cancel it "
                             "before confirming new bank details.", batch=batch_id))


def confirm_change(change: BankDetailsChange, actor: User) -> None:
    """A manager confirms a requested change: the new details are used from now on."""
    policy.ensure(policy.can_decide_bank_change(actor, change),
                  "Only programme managers confirm a change of bank details, once.")
    requested = BankDetails.of(change)
    by, on = change.requested_by.name, change.requested_at.strftime("%d %b %Y")
    with atomic():
        _ensure_no_open_batch(change.organisation)
        _close(change, CONFIRMED, actor, "")
        _apply(change.organisation, requested, actor, CONFIRM,
               f"Asked for by {by} on {on}.")


def refuse_change(change: BankDetailsChange, actor: User, reason: str | None) -> None:
    """A manager refuses a requested change, saying why; the confirmed details stay."""
    policy.ensure(policy.can_decide_bank_change(actor, change),
                  "Only programme managers refuse a change of bank details, once.")
    reason = clean_reason(reason, _("Give the reason for refusing the change; the "
                                    "company's applicants see it."), MAX_REASON)
    with atomic():
        _close(change, REFUSED, actor, reason)


def pending_count() -> int:
    """How many companies' new bank details wait for a manager (the manager's home)."""
    return db.session.scalar(select(func.count()).select_from(BankDetailsChange).where(
        BankDetailsChange.outcome.is_(None)))


def pending_changes() -> list[BankDetailsChange]:
    """The changes waiting for a manager, oldest first (one per company at most)."""
    return list(db.session.scalars(
        select(BankDetailsChange)
        .options(joinedload(BankDetailsChange.organisation),
                 joinedload(BankDetailsChange.requested_by))
        .where(BankDetailsChange.outcome.is_(None))
        .order_by(BankDetailsChange.requested_at, BankDetailsChange.id)))


# --- for the pages ----------------------------------------------------------------------


@dataclass(frozen=True)
class BankEvent:
    at: datetime
    by: str
    what: str
    # (label, old, new) per field that changed, IBANs in groups of four.
    changes: list[tuple[str, str, str]]
    reason: str


@dataclass(frozen=True)
class BankOverview:
    confirmed: BankDetails | None
    pending: BankDetailsChange | None
    pending_details: BankDetails | None
    # Whether an applicant's change would now wait for a manager (the company has a voucher).
    needs_confirmation: bool
    history: list[BankEvent]


def _shown(name: str, value: str) -> str:
    return identifiers.formatted_iban(value) if name == "iban" and value else value


def history(organisation: Organisation, limit: int = HISTORY_SHOWN) -> list[BankEvent]:
    records = db.session.scalars(
        select(ChangeRecord).options(joinedload(ChangeRecord.actor))
        .where(ChangeRecord.subject_type == ORGANISATION,
               ChangeRecord.subject_id == organisation.id,
               ChangeRecord.action.in_(BANK_ACTIONS))
        .order_by(ChangeRecord.id.desc()).limit(limit))
    return [BankEvent(
        at=r.at, by=r.actor.name if r.actor else _("(a deleted account)"),
        what=_(ACTION_LABELS[r.action]), reason=r.reason,
        changes=[(_(label), _shown(name, r.changes[name][0]), _shown(name, r.changes[name][1]))
                 for name, label in FIELDS.items() if name in r.changes])
        for r in records]


def overview(organisation: Organisation | None) -> BankOverview:
    if organisation is None:
        return BankOverview(None, None, None, False, [])
    pending = pending_change(organisation)
    return BankOverview(BankDetails.of(organisation), pending, BankDetails.of(pending),
                        has_voucher(organisation), history(organisation))
