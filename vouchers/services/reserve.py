"""The reserve list: waitlisted applications offered when money returns to an envelope.

Per voucher type, the whole ranking is walked exactly as the funding line walks it
(services/funding_line.walk), and the waitlisted applications the walk would award are
offered: each fits what is left (envelope, quota, the partner's share, the undertaking's
limits, thresholds, eligibility), and no higher-ranked application still awaiting its
decision would take the money first. The manager promotes them one at a time, the first
offered first; the offer's fingerprint makes a promotion refuse when the reserve list
changed meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from workflows.lifecycle import WAITLISTED

from .. import policy
from ..extensions import db
from ..models import Application, Call, CallVoucherType, User
from ..models.base import utcnow
from . import ranking, transitions
from .errors import ConcurrentChange, InvalidInput, TransitionNotAllowed
from .funding_line import AWARD, Line, Proposal, lock_for_decision, walk
from .transaction import atomic
from .wording import in_sentence


@dataclass(frozen=True)
class Offer:
    """One voucher type's reserve list and what of it fits now."""

    cvt: CallVoucherType
    walk: Proposal

    @property
    def voucher_type(self) -> str:
        return self.cvt.voucher_type

    @property
    def applications(self) -> list[Application]:
        """The applications offered (services/needs.py counts them)."""
        return [line.application for line in self.lines]

    @property
    def reserve(self) -> list[Line]:
        """The waitlisted applications, in rank order."""
        return [line for line in self.walk.lines if line.state == WAITLISTED]

    @property
    def waiting(self) -> int:
        return len(self.reserve)

    @property
    def lines(self) -> list[Line]:
        """The waitlisted applications that fit, in rank order."""
        return [line for line in self.reserve if line.action == AWARD]

    def number(self, line: Line) -> int:
        """The line's number on the reserve list (1: the first waitlisted)."""
        return next(n for n, other in enumerate(self.reserve, 1) if other is line)

    @property
    def first(self) -> Line | None:
        lines = self.lines
        return lines[0] if lines else None

    @property
    def fingerprint(self) -> str:
        return self.walk.fingerprint


def offer_of(cvt: CallVoucherType, now: datetime | None = None) -> Offer:
    now = now or utcnow()
    # The lines' reasons are records (funding_line.walk): in English, whoever looks; the
    # walk is of the whole ranking at ``now``, so Proposal.why says them in the reader's.
    with force_locale("en"):
        return Offer(cvt, walk(cvt, ranking.ranked(cvt, now), now, ranked=True))


def offers(call: Call, now: datetime | None = None) -> list[Offer]:
    """Per voucher type of ``call``, the waitlisted applications that now fit, in rank order."""
    now = now or utcnow()
    return [offer_of(cvt, now) for cvt in call.voucher_types]


def promote(application: Application, actor: User, fingerprint: str,
            now: datetime | None = None) -> Line:
    """Award the first application the reserve list offers, as it was shown."""
    now = now or utcnow()
    with atomic():
        policy.ensure(policy.can_promote_from_reserve(actor, application),
                      "Only a programme manager promotes from the reserve list.")
        cvt = application.call_voucher_type
        lock_for_decision(cvt, Application.id == application.id)
        # Read again under the lock: a decision committed meanwhile is seen.
        db.session.refresh(application)
        if application.state != WAITLISTED:
            raise TransitionNotAllowed(_("%(reference)s is no longer on the reserve list.",
                                         reference=application.reference))
        offer = offer_of(cvt, now)
        first = offer.first
        mine = next((line for line in offer.walk.lines
                     if line.application.id == application.id), None)
        if offer.fingerprint != fingerprint:
            raise ConcurrentChange(_("The reserve list of %(type)s changed since it was "
                                     "shown; look at its offers again.",
                                     type=in_sentence(cvt.label)))
        if first is not None and first.application.id != application.id:
            raise ConcurrentChange(_("%(reference)s ranks higher on the reserve list and "
                                     "fits: promote it first.",
                                     reference=first.application.reference))
        if first is None:
            reason = offer.walk.why(mine) if mine is not None else ""
            raise InvalidInput(_("%(reference)s does not fit now. %(reason)s",
                                 reference=application.reference, reason=reason).strip())
        transitions.award(application, actor, first.amount, now=now,
                          comment=f"Promoted from the reserve list (number {offer.number(first)}).")
    return first
