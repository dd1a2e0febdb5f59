"""One undertaking's standing against the limits that bind what one SME may receive.

Three limits, whichever call of the programme the SME applies to:

- vouchers held over the programme (``Call.max_vouchers_per_sme``);
- support received over the programme (``Call.support_cap``, by default the EU ceiling
  for financial support to third parties);
- de minimis aid over the rolling three years (``budget.de_minimis_cap``): the aid the
  SME declared (AidDeclaration) granted inside the period, plus the aid awarded here in
  the period, in any programme (de minimis counts across every source of aid).

A voucher counts while it holds money: a cancelled one gave its amount back. The period
is ``budget.de_minimis_period_start``, the one definition the pages and the workbook use.

``check_award`` first takes the undertaking's lock (an UPDATE of its row: a row lock on
PostgreSQL that a second award to the same SME waits for; SQLite serialises every
writer anyway), so the sums it then reads include every award committed before it, and
two simultaneous awards cannot together pass a limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update

from ..clock import local_date, programme_zone
from ..extensions import db
from ..figures import LIVE_VOUCHER_STATES
from ..models import AidDeclaration, Application, Call, EligibilityOverride, Organisation
from . import budget
from .errors import DeMinimisExceeded, DomainError, SupportCapExceeded, VoucherLimitReached
from .wording import eur

VOUCHERS_PER_SME, SUPPORT_CAP, DE_MINIMIS = "vouchers_per_sme", "support_cap", "de_minimis"
ERRORS: dict[str, type[DomainError]] = {
    VOUCHERS_PER_SME: VoucherLimitReached,
    SUPPORT_CAP: SupportCapExceeded,
    DE_MINIMIS: DeMinimisExceeded,
}
# A manager may accept an application beyond the call's voucher count with a written
# reason (an EligibilityOverride); the support cap and de minimis are legal ceilings.
OVERRIDABLE = frozenset({VOUCHERS_PER_SME})


@dataclass(frozen=True)
class Standing:
    """What one SME holds: vouchers over the programme, support over the programme, and
    de minimis aid counted over the rolling three years (declared + awarded here)."""

    vouchers: int
    support: Decimal
    de_minimis: Decimal


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def standing_of(organisation_id: int, call: Call, at: datetime,
                excluding: int | None = None) -> Standing:
    """The SME's standing at ``at``, leaving out application ``excluding`` (the one being
    decided, so it is not counted against itself)."""
    a = Application
    held = [a.organisation_id == organisation_id, a.state.in_(LIVE_VOUCHER_STATES)]
    if excluding is not None:
        held.append(a.id != excluding)
    programme_calls = select(Call.id).where(Call.programme_id == call.programme_id)
    # The aid a voucher gives is what it still holds: close-out released the rest.
    held_amount = func.coalesce(func.sum(a.awarded_amount - a.released_amount), 0)
    vouchers, support = db.session.execute(
        select(func.count(a.id), held_amount)
        .where(*held, a.call_id.in_(programme_calls))
    ).one()
    day = local_date(at)
    awarded = db.session.scalar(
        select(held_amount)
        .where(*held, a.awarded_at >= budget.de_minimis_period_opens(day, programme_zone()))
    )
    d = AidDeclaration
    declared = db.session.scalar(
        select(func.coalesce(func.sum(d.amount), 0)).where(
            d.organisation_id == organisation_id,
            d.granted_on > budget.de_minimis_period_start(day), d.granted_on <= day)
    )
    return Standing(int(vouchers), _money(support), _money(awarded) + _money(declared))


def limit_problems(call: Call, standing: Standing, amount: Decimal) -> list[tuple[str, str]]:
    """(rule code, message) for each limit ``amount`` more would break."""
    problems = []
    limit = call.max_vouchers_per_sme
    if limit is not None and standing.vouchers + 1 > limit:
        problems.append((VOUCHERS_PER_SME, ngettext(
            "The company already holds %(num)s voucher of this programme; a company may "
            "hold at most %(limit)s.",
            "The company already holds %(num)s vouchers of this programme; a company may "
            "hold at most %(limit)s.", standing.vouchers, limit=limit)))
    cap = call.support_cap
    if cap is not None and standing.support + amount > cap:
        problems.append((SUPPORT_CAP, _(
            "Support to the company over the programme would reach %(total)s (%(so_far)s "
            "awarded already and %(amount)s more); the cap per company is %(cap)s.",
            total=eur(standing.support + amount), so_far=eur(standing.support),
            amount=eur(amount), cap=eur(cap))))
    de_minimis_cap = budget.de_minimis_cap()
    if standing.de_minimis + amount > de_minimis_cap:
        problems.append((DE_MINIMIS, _(
            "The company would receive %(total)s of de minimis aid over the rolling "
            "%(years)s years (%(so_far)s declared or awarded already and %(amount)s more); "
            "the cap is %(cap)s.", total=eur(standing.de_minimis + amount),
            years=budget.DE_MINIMIS_YEARS, so_far=eur(standing.de_minimis),
            amount=eur(amount), cap=eur(de_minimis_cap))))
    return problems


def lock(organisation_id: int) -> None:
    """Serialise the awards to one undertaking until this transaction ends."""
    db.session.execute(
        update(Organisation)
        .where(Organisation.id == organisation_id)
        .values(award_lock=Organisation.award_lock + 1)
        .execution_options(synchronize_session=False)
    )


def _overridden(application: Application) -> set[str]:
    return set(db.session.scalars(
        select(EligibilityOverride.rule).where(
            EligibilityOverride.application_id == application.id,
            EligibilityOverride.rule.in_(OVERRIDABLE))
    ))


def check_award(application: Application, amount: Decimal, at: datetime) -> Standing:
    """Refuse awarding ``amount`` if it takes the undertaking past one of its limits.

    Runs inside the award's transaction: the lock is held until it commits. Returns the
    standing it decided on, which the award's other checks read rather than query again.
    """
    lock(application.organisation_id)
    db.session.expire(application.organisation, ["award_lock"])
    standing = standing_of(application.organisation_id, application.call, at,
                           excluding=application.id)
    problems = limit_problems(application.call, standing, amount)
    excused = _overridden(application) if problems else set()
    for code, message in problems:
        if code not in excused:
            raise ERRORS[code](message)
    return standing


__all__ = ["DE_MINIMIS", "SUPPORT_CAP", "VOUCHERS_PER_SME", "Standing", "check_award",
           "limit_problems", "lock", "standing_of"]
