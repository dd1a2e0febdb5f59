"""The funding line of one call and voucher type: proposed from the ranking, confirmed whole.

``propose`` walks the ranking once, best first, and gives each application what is left
at its turn: an award (the amount requested, at most the type's maximum) while the
envelope, the quota, the share of the SME's partner (PartnerShare) and the undertaking's
limits (vouchers, support cap, de minimis) allow; the waitlist when one of them does not
(the line says which); rejection when the application is below the call's thresholds;
nothing when an eligibility rule fails without a manager's exception (the manager
decides). The walk is greedy, so the line is rank-monotone by construction: an
application is passed over only when it does not fit.

Nothing is written until ``confirm``: it recomputes the proposal under the write lock and
applies it only if its fingerprint (a hash of everything the proposal read) is the one
the manager saw, through the transitions (which check everything again) in one atomic():
one refusal undoes the whole proposal.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from workflows.lifecycle import UNDER_REVIEW

from .. import policy
from ..clock import local_date
from ..extensions import db
from ..i18n import DEFAULT, current_language
from ..models import Application, CallVoucherType, Partner, PartnerShare, User
from ..models.base import utcnow
from ..money import ZERO
from . import ranking, transitions, undertaking
from .errors import ConcurrentChange, DomainError, NotAllowed
from .ranking import Entry
from .transaction import atomic
from .undertaking import Standing
from .wording import N_, eur, in_sentence

AWARD, WAITLIST, REJECT, NONE = "award", "waitlist", "reject", "none"
CHANGED = N_("The ranking changed since the proposal was made (%(what)s); recompute it.")


class LineRefused(DomainError):
    """One line of a confirmed proposal was refused: nothing of the proposal was applied."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Line:
    entry: Entry
    action: str
    amount: Decimal | None = None
    # In English, whoever looks: a record and part of the fingerprint (see walk). A page
    # shows Proposal.why(line), the same in its reader's language.
    reason: str = ""

    @property
    def application(self) -> Application:
        return self.entry.application

    @property
    def state(self) -> str:
        """The application's state when the line was proposed (it moves once applied)."""
        return self.entry.state

    @property
    def rank(self) -> int:
        return self.entry.rank

    @property
    def applies(self) -> bool:
        """Whether confirming changes the application (a waitlisted one stays as it is)."""
        if self.action == WAITLIST:
            return self.state == UNDER_REVIEW
        return self.action in (AWARD, REJECT)

    @property
    def label(self) -> str:
        """English; the page translates it (and apply's refusal, through in_sentence)."""
        if self.action == WAITLIST and not self.applies:
            return N_("Stays on the waitlist")
        return {AWARD: N_("Award"), WAITLIST: N_("Waitlist"), REJECT: N_("Reject"),
                NONE: N_("No proposal")}[self.action]


@dataclass(frozen=True)
class Proposal:
    cvt: CallVoucherType
    lines: tuple[Line, ...]
    fingerprint: str
    # What the walk started from: the type's envelope and quota still free.
    envelope_left: Decimal
    quota_left: int
    # committed|awarded_count;id.version,... : lets a refused confirmation say what changed.
    basis: str
    # When propose walked the whole ranking; None for another walk (see why).
    ranked_at: datetime | None = field(default=None, compare=False)

    @cached_property
    def _said(self) -> dict[int, Line]:
        """The same walk in the reader's language, by application id (once per page)."""
        if self.ranked_at is None or current_language() == DEFAULT:
            return {}
        resources = _Resources(self.cvt, self.ranked_at)
        return {line.application.id: line for line in (
            _line(entry, resources) for entry in ranking.ranked(self.cvt, self.ranked_at))}

    def why(self, line: Line) -> str:
        """``line``'s reason as a page shows it: in the reader's language. The reason kept
        is English (a record, and part of the fingerprint), so a proposal walked by
        propose is walked again in the page's language; should that walk have come out
        otherwise for the line (a decision made meanwhile), the English reason is shown."""
        said = self._said.get(line.application.id)
        if said is None or (said.action, said.amount) != (line.action, line.amount):
            return line.reason
        return said.reason

    def _with(self, action: str) -> list[Line]:
        return [line for line in self.lines if line.action == action]

    @property
    def awards(self) -> list[Line]:
        return self._with(AWARD)

    @property
    def waitlisted(self) -> list[Line]:
        return self._with(WAITLIST)

    @property
    def rejected(self) -> list[Line]:
        return self._with(REJECT)

    @property
    def undecided(self) -> list[Line]:
        return self._with(NONE)

    @property
    def awarded_total(self) -> Decimal:
        return sum((line.amount for line in self.awards), ZERO)

    @property
    def to_apply(self) -> list[Line]:
        return [line for line in self.lines if line.applies]


def _shares_left(cvt_id: int) -> dict[int, tuple[str, Decimal]]:
    """Per partner with its own share of the type's envelope: its name and what the share
    has left (services/ledger.py refuses an award beyond it, so the walk must not offer one)."""
    rows = db.session.execute(
        select(PartnerShare.partner_id, Partner.name, PartnerShare.envelope,
               PartnerShare.committed)
        .join(Partner, Partner.id == PartnerShare.partner_id)
        .where(PartnerShare.call_voucher_type_id == cvt_id))
    return {pid: (name, envelope - committed) for pid, name, envelope, committed in rows}


class _Resources:
    """What is left as the line is walked: the type's envelope and quota, each partner's
    share of the envelope, and for each undertaking its standing (read once) plus what
    this walk has given it so far."""

    def __init__(self, cvt: CallVoucherType, now: datetime):
        self.call = cvt.call
        self.now = now
        self.envelope = cvt.envelope - cvt.committed
        self.quota = cvt.quota - cvt.awarded_count
        self.shares = _shares_left(cvt.id)
        self.shares_at_start = dict(self.shares)
        self.standings: dict[int, Standing] = {}
        self.given: dict[int, tuple[int, Decimal]] = {}

    def standing(self, organisation_id: int) -> Standing:
        if organisation_id not in self.standings:
            self.standings[organisation_id] = undertaking.standing_of(
                organisation_id, self.call, self.now)
        base = self.standings[organisation_id]
        n, amount = self.given.get(organisation_id, (0, ZERO))
        return Standing(base.vouchers + n, base.support + amount, base.de_minimis + amount)

    def problems(self, entry: Entry, amount: Decimal) -> list[str]:
        problems = []
        if self.quota < 1:
            problems.append(_("The quota is used up (no %(type)s voucher left to award).",
                              type=in_sentence(entry.application.call_voucher_type.label)))
        if amount > self.envelope:
            problems.append(_("The envelope has %(left)s left; this award needs %(amount)s.",
                              left=eur(max(self.envelope, ZERO)), amount=eur(amount)))
        share = self.shares.get(entry.application.partner_id)
        if share is not None and amount > share[1]:
            name, left = share
            problems.append(_("The partner's share is used up: %(partner)s has %(left)s of "
                              "its share left; this award needs %(amount)s.", partner=name,
                              left=eur(max(left, ZERO)), amount=eur(amount)))
        organisation_id = entry.application.organisation_id
        for code, message in undertaking.limit_problems(
                self.call, self.standing(organisation_id), amount):
            if code not in entry.excused:
                problems.append(message)
        return problems

    def take(self, entry: Entry, amount: Decimal) -> None:
        self.envelope -= amount
        self.quota -= 1
        partner_id = entry.application.partner_id
        if partner_id in self.shares:
            name, left = self.shares[partner_id]
            self.shares[partner_id] = (name, left - amount)
        organisation_id = entry.application.organisation_id
        n, given = self.given.get(organisation_id, (0, ZERO))
        self.given[organisation_id] = (n + 1, given + amount)


def _line(entry: Entry, resources: _Resources) -> Line:
    blocking = entry.static_blocking
    if blocking:
        rules = "; ".join(f"{r.label}: {r.reason}" for r in blocking)
        return Line(entry, NONE, reason=_("Not eligible without an exception (%(rules)s).",
                                          rules=rules))
    if entry.threshold_problems:
        return Line(entry, REJECT, reason=_("Below the call's threshold: %(problems)s",
                                            problems=" ".join(entry.threshold_problems)))
    cvt = entry.application.call_voucher_type
    amount = min(entry.application.requested_amount, cvt.max_amount)
    problems = resources.problems(entry, amount)
    if problems:
        return Line(entry, WAITLIST, amount, reason=_("Does not fit: %(problems)s",
                                                      problems=" ".join(problems)))
    resources.take(entry, amount)
    if amount < entry.application.requested_amount:
        return Line(entry, AWARD, amount, reason=_(
            "Fits: %(amount)s (capped at the type's maximum).", amount=eur(amount)))
    return Line(entry, AWARD, amount, reason=_("Fits: %(amount)s.", amount=eur(amount)))


def walk(cvt: CallVoucherType, entries: list[Entry], now: datetime, *,
         ranked: bool = False) -> Proposal:
    """The greedy walk over ``entries`` (in rank order) with what the type has left;
    ``ranked``: the entries are the whole ranking at ``now`` (propose)."""
    resources = _Resources(cvt, now)
    envelope_left, quota_left = resources.envelope, resources.quota
    # A line's reason is a record (the decision's reason, its audit comment, the rejection
    # e-mail) and part of the fingerprint: always in English, whoever looks.
    with force_locale("en"):
        lines = tuple(_line(entry, resources) for entry in entries)
    return Proposal(cvt=cvt, lines=lines, envelope_left=envelope_left, quota_left=quota_left,
                    fingerprint=_fingerprint(cvt, lines, resources.standings,
                                             resources.shares_at_start),
                    basis=_basis(cvt, entries), ranked_at=now if ranked else None)


def propose(cvt: CallVoucherType, now: datetime | None = None) -> Proposal:
    """The funding line the ranking gives now; nothing is written."""
    now = now or utcnow()
    with force_locale("en"):  # the reasons are records: see walk
        return walk(cvt, ranking.ranked(cvt, now), now, ranked=True)


def _fingerprint(cvt: CallVoucherType, lines: tuple[Line, ...],
                 standings: dict[int, Standing],
                 shares: dict[int, tuple[str, Decimal]]) -> str:
    """A hash of everything the proposal read and decided: any change to it (an award, a
    withdrawal, a new review or consensus, an exception, the budget, a partner's share)
    changes the hash."""
    material = {
        "type": [cvt.id, cvt.envelope, cvt.committed, cvt.quota, cvt.awarded_count,
                 cvt.max_amount, cvt.threshold, cvt.call.support_cap,
                 cvt.call.max_vouchers_per_sme, cvt.call.max_applications_per_type],
        "lines": [[line.application.id, line.application.version, line.state,
                   line.application.requested_amount, line.entry.score,
                   line.entry.first_criterion, line.rank, line.action, line.amount,
                   line.reason] for line in lines],
        "standings": sorted([org, s.vouchers, s.support, s.de_minimis]
                            for org, s in standings.items()),
        "shares": sorted([pid, left] for pid, (_name, left) in shares.items()),
    }
    text = json.dumps(material, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _basis(cvt: CallVoucherType, entries: list[Entry]) -> str:
    ids = ",".join(f"{e.application.id}.{e.application.version}" for e in entries)
    return f"{cvt.committed}|{cvt.awarded_count};{ids}"


def what_changed(before: str | None, proposal: Proposal) -> str:
    """In words, how the proposal recomputed now differs from the one whose basis the
    manager saw (or a general phrase when the basis is missing or unreadable)."""
    try:
        figures, _sep, ids = (before or "").partition(";")
        committed, count = figures.split("|")
        old = dict(item.split(".") for item in ids.split(",") if item)
        old_ids = {int(k): int(v) for k, v in old.items()}
        committed, count = Decimal(committed), int(count)
    except (ValueError, ArithmeticError):
        return _("another decision, a withdrawal, a review or an exception since")
    # Said to the manager whose confirmation is refused, in their language.
    cvt = proposal.cvt
    changes = []
    if committed != cvt.committed or count != cvt.awarded_count:
        changes.append(_("the type's awards changed: %(committed)s committed and %(count)s "
                         "awarded, was %(was_committed)s and %(was_count)s",
                         committed=eur(cvt.committed), count=cvt.awarded_count,
                         was_committed=eur(committed), was_count=count))
    now = {line.application.id: line.application for line in proposal.lines}
    moved = [a.reference for i, a in now.items() if i in old_ids and old_ids[i] != a.version]
    entered = [a.reference for i, a in now.items() if i not in old_ids]
    left = len([i for i in old_ids if i not in now])
    if moved:
        changes.append(_("changed: %(references)s", references=", ".join(moved[:5])))
    if entered:
        changes.append(_("newly ranked: %(references)s", references=", ".join(entered[:5])))
    if left:
        changes.append(ngettext("%(num)s no longer in the ranking",
                                "%(num)s no longer in the ranking", left))
    return "; ".join(changes) or _("an exception, a limit or a standing changed")


def lock_for_decision(cvt: CallVoucherType, applications) -> None:
    """Take the locks a decision on the type needs, in the order every award takes them:
    the applications' rows, then their undertakings, then the type's budget row. So a
    decision waits for an award made at the same moment (or the award for it) and the
    two never deadlock. On PostgreSQL these are row locks; on SQLite atomic() already
    holds the database's write lock and FOR UPDATE is left out."""
    a = Application
    rows = db.session.execute(
        select(a.id, a.organisation_id).where(applications).order_by(a.id).with_for_update()
    ).all()
    for organisation_id in sorted({org for _id, org in rows}):
        undertaking.lock(organisation_id)
    db.session.refresh(cvt, with_for_update=True)


def confirm(cvt: CallVoucherType, actor: User, fingerprint: str, now: datetime | None = None,
            *, basis: str | None = None) -> Proposal:
    """Apply the proposal whose fingerprint the manager saw, whole or not at all."""
    now = now or utcnow()
    with atomic():
        policy.ensure(policy.can_decide_funding(actor, cvt),
                      "Only a programme manager confirms a funding line.")
        lock_for_decision(cvt, ranking.in_ranking(cvt.id))
        proposal = propose(cvt, now)
        if proposal.fingerprint != fingerprint:
            raise ConcurrentChange(_(CHANGED, what=what_changed(basis, proposal)))
        apply(proposal, actor, now)
    return proposal


def apply(proposal: Proposal, actor: User, now: datetime) -> None:
    """Every line through its transition (inside the caller's atomic()): the transitions
    re-check eligibility, thresholds, limits, envelope and quota; a refusal names the
    application and undoes everything the caller's block did."""
    day = local_date(now).isoformat()  # the programme's day, not UTC's
    for line in proposal.to_apply:
        application = line.application
        note = f"Funding line of {day}: rank {line.rank}. {line.reason}"
        try:
            if line.action == AWARD:
                transitions.award(application, actor, line.amount, comment=note, now=now)
            elif line.action == WAITLIST:
                transitions.waitlist(application, actor, note)
            else:
                transitions.reject(application, actor, line.reason)
        except NotAllowed:
            raise
        except DomainError as exc:
            raise LineRefused(
                _("%(reference)s (rank %(rank)s, %(action)s) was refused: %(problem)s Nothing "
                  "of the proposal was applied.", reference=application.reference,
                  rank=line.rank, action=in_sentence(line.label), problem=exc.message),
                exc.status) from exc


__all__ = ["AWARD", "NONE", "REJECT", "WAITLIST", "Line", "LineRefused", "Proposal",
           "confirm", "lock_for_decision", "propose", "walk", "what_changed"]
