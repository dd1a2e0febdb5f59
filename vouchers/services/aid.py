"""De minimis aid an SME declares it received elsewhere, each aid with its date.

The applicant of the company (or a manager) declares each aid: who granted it, when, how
much. A declaration counts towards the de minimis cap for the rolling three years after
it was granted (budget.de_minimis_period_start); the award check (services/undertaking.py)
adds it to the aid awarded here. Declaring and withdrawing are each kept as a
ChangeRecord of the company, so the figures an award was allowed on can be traced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import policy
from ..clock import today
from ..extensions import db
from ..i18n import N_
from ..models import AidDeclaration, ChangeRecord, Organisation, User
from ..money import ZERO, parse_amount
from ..text import clean_line, clean_reason
from . import budget, eligibility
from .errors import InvalidInput
from .transaction import atomic
from .wording import long_day

ORGANISATION, DECLARE, WITHDRAW = "organisation", "declare_aid", "withdraw_aid"
EARLIEST = date(2000, 1, 1)
MAX_REASON = 2000


def _granted_on(value: Any) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(_("Give the date the aid was granted as YYYY-MM-DD, for "
                                 "example 2025-03-31.")) from None
    if not isinstance(value, date):
        raise InvalidInput(_("Give the date the aid was granted."))
    if value > today():
        raise InvalidInput(_("The date the aid was granted cannot be in the future."))
    if value < EARLIEST:
        raise InvalidInput(_("The date the aid was granted cannot be before %(day)s.",
                             day=long_day(EARLIEST)))
    return value


def _amount(value: Any) -> Decimal:
    try:
        amount = parse_amount(value)
    except ValueError as exc:
        raise InvalidInput(_("Amount of the aid: %(problem)s", problem=exc)) from exc
    if amount <= 0:
        raise InvalidInput(_("The amount of the aid must be greater than zero."))
    return amount


def _record(declaration: AidDeclaration, actor: User, action: str, reason: str = "") -> None:
    values = {"granting_body": declaration.granting_body,
              "granted_on": declaration.granted_on.isoformat(),
              "amount": str(declaration.amount)}
    # field -> [old, new], as a correction records: declaring adds, withdrawing removes.
    changes = {name: (["", value] if action == DECLARE else [value, ""])
               for name, value in values.items()}
    db.session.add(ChangeRecord(subject_type=ORGANISATION,
                                subject_id=declaration.organisation_id, action=action,
                                actor_id=actor.id, reason=reason, changes=changes))


def declare(organisation: Organisation, actor: User, granting_body: Any, granted_on: Any,
            amount: Any) -> AidDeclaration:
    """Record one aid the company received; InvalidInput names the first problem."""
    policy.ensure(policy.can_declare_aid(actor, organisation),
                  "Only the company's applicant or a manager declares its aid.")
    body = clean_line(granting_body, N_("the body that granted the aid"), 200)
    day = _granted_on(granted_on)
    value = _amount(amount)
    with atomic():
        declaration = AidDeclaration(organisation_id=organisation.id, granting_body=body,
                                     granted_on=day, amount=value, declared_by_id=actor.id)
        db.session.add(declaration)
        db.session.flush()
        _record(declaration, actor, DECLARE)
        eligibility.refresh_company(organisation.id)
    return declaration


def withdraw(declaration: AidDeclaration, actor: User, reason: Any) -> None:
    """Remove a declaration (entered twice, a wrong amount); why is kept with its figures."""
    policy.ensure(policy.can_withdraw_aid(actor, declaration),
                  "Only the company's applicant or a manager withdraws its declarations.")
    reason = clean_reason(reason, _("Say why the declaration is withdrawn."), MAX_REASON)
    with atomic():
        _record(declaration, actor, WITHDRAW, reason)
        db.session.delete(declaration)
        db.session.flush()
        eligibility.refresh_company(declaration.organisation_id)


# Reading, for the pages ---------------------------------------------------------------


@dataclass(frozen=True)
class DeclaredAid:
    declaration: AidDeclaration
    last_day: date  # the last day it counts towards the cap
    counts: bool  # it counts today


@dataclass(frozen=True)
class AidOverview:
    items: list[DeclaredAid]
    counted: Decimal  # the total that counts today
    day: date


def overview(organisation: Organisation | None, day: date | None = None) -> AidOverview:
    """The company's declarations, newest grant first, with what each counts today."""
    day = day or today()
    if organisation is None or organisation.id is None:
        return AidOverview([], ZERO, day)
    declarations = db.session.scalars(
        select(AidDeclaration).where(AidDeclaration.organisation_id == organisation.id)
        .order_by(AidDeclaration.granted_on.desc(), AidDeclaration.id.desc())
    ).all()
    items = [DeclaredAid(d, budget.last_day_counted(d.granted_on),
                         budget.counts_on(d.granted_on, day)) for d in declarations]
    counted = sum((i.declaration.amount for i in items if i.counts), ZERO)
    return AidOverview(items, counted, day)
