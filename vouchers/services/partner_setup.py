"""Setting up the consortium: the lead partner's managers add and edit the partner
agencies of a programme, their regions (with NUTS codes) and their shares of the calls'
envelopes, and say which partner a manager or an evaluator works for.

A region belongs to one partner per programme (the unique key on partner_regions) and must
be one of the programme's regions first: the partner regions are what the calls' default
eligible regions are made of. When a partner's regions (or currency) change, every
application of the programme is placed again (services/partners.refresh_programme). A
share's ``committed`` is kept by services/ledger.py from then on; a share given to a
partner that already has awards starts with what those vouchers hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from workflows.lifecycle import EVALUATOR, MANAGER

from .. import policy
from ..countries import COUNTRY_ALIASES, VALID_COUNTRIES
from ..currencies import currency_problem
from ..extensions import db
from ..i18n import N_
from ..models import (
    Application,
    Call,
    CallVoucherType,
    ChangeRecord,
    Partner,
    PartnerRegion,
    PartnerShare,
    Programme,
    User,
)
from ..money import MAX_MONEY, ZERO
from ..policy_partners import region_key_of
from . import partners as placement
from .accounts import record_change
from .call_specs import REGION_EXAMPLE, region_key
from .errors import InvalidInput
from .partner_regions import RegionSpec
from .setup_checks import SetupRefused, checked_line
from .transaction import atomic
from .wording import eur

NOT_ALLOWED = N_("Only the lead partner's managers set up the consortium.")
REGION_UNIQUE = "uq_partner_regions_region"
NAME_UNIQUE = "uq_partners_programme_name"
ONE_LEAD = "uq_partners_one_lead"
# NUTS writes Greece as EL and the United Kingdom as UK (the programme's UK, ISO's GB).


@dataclass
class PartnerSpec:
    name: str
    country: str
    currency: str = "EUR"
    is_lead: bool = False
    regions: list[RegionSpec] = field(default_factory=list)
    # call voucher type id -> the partner's share of its envelope; None: no share.
    shares: dict[int, Decimal | None] = field(default_factory=dict)


@dataclass(frozen=True)
class PartnerRow:
    """One line of the Partners page."""

    partner: Partner
    managers: int
    applications: int


# --- reading -------------------------------------------------------------------------


def programmes_with_partners() -> list[tuple[Programme, list[PartnerRow]]]:
    """Every programme with its partners, lead first, and their counts."""
    managers = dict(db.session.execute(
        select(User.partner_id, func.count()).where(User.role == MANAGER,
                                                    User.partner_id.is_not(None))
        .group_by(User.partner_id)).all())
    applications = dict(db.session.execute(
        select(Application.partner_id, func.count())
        .where(Application.partner_id.is_not(None)).group_by(Application.partner_id)).all())
    out = []
    for programme in db.session.scalars(select(Programme).order_by(Programme.id)):
        partners = db.session.scalars(
            select(Partner).where(Partner.programme_id == programme.id)
            .order_by(Partner.is_lead.desc(), Partner.name, Partner.id))
        out.append((programme, [PartnerRow(p, managers.get(p.id, 0),
                                           applications.get(p.id, 0)) for p in partners]))
    return out


def programme_of(partner: Partner) -> Programme:
    return db.session.get(Programme, partner.programme_id)


def share_types(programme_id: int) -> list[CallVoucherType]:
    """The voucher types of the programme's calls, whose envelopes partners may share."""
    return list(db.session.scalars(
        select(CallVoucherType).join(Call, Call.id == CallVoucherType.call_id)
        .where(Call.programme_id == programme_id)
        .order_by(Call.opens_at, Call.id, CallVoucherType.position, CallVoucherType.id)))


def partner_choices() -> list[tuple[int, str]]:
    """(id, "Programme: Partner") of every partner, for the users' forms."""
    rows = db.session.execute(
        select(Partner.id, Programme.name, Partner.name)
        .join(Programme, Programme.id == Partner.programme_id)
        .order_by(Programme.name, Partner.name, Partner.id))
    return [(pid, f"{programme}: {name}") for pid, programme, name in rows]


# --- writing -------------------------------------------------------------------------


def save_partner(programme: Programme, spec: PartnerSpec, by: User,
                 partner: Partner | None = None) -> Partner:
    """Add a partner to ``programme`` (or save ``partner``): its name, country, currency,
    lead flag, regions and shares; SetupRefused lists every problem found."""
    policy.ensure(policy.can_run_programme(by), _(NOT_ALLOWED))
    if partner is not None and partner.programme_id != programme.id:
        raise InvalidInput(_("This partner belongs to another programme."))
    taken = _("The programme already has a partner named %(name)s.", name=spec.name.strip())
    clash = _("One of these regions was just given to another partner; reload the page to "
              "see who covers it.")
    lead = _("Another manager just made another partner the lead; reload the page.")
    with atomic(clashes={NAME_UNIQUE: taken, REGION_UNIQUE: clash, ONE_LEAD: lead}):
        problems: list[str] = []
        fields = _fields(programme, spec, partner, problems)
        problems += _region_problems(programme, spec.regions, partner)
        types = {t.id: t for t in share_types(programme.id)}
        _lock_types([i for i in spec.shares if i in types])
        problems += _share_problems(types, spec.shares, partner)
        if problems:
            raise SetupRefused(problems)
        created = partner is None
        if created:
            partner = Partner(programme_id=programme.id, **fields)
            db.session.add(partner)
            db.session.flush()
        before = _described(partner)
        for name, value in fields.items():
            setattr(partner, name, value)
        moved = _set_regions(partner, spec.regions)
        _set_shares(partner, types, spec.shares)
        db.session.flush()
        after = _described(partner)
        if moved or before["currency"] != after["currency"]:
            placement.refresh_programme(programme.id)
        changes = {k: [before[k] if not created else "", after[k]] for k in after
                   if created or before[k] != after[k]}
        db.session.add(ChangeRecord(subject_type="partner", subject_id=partner.id,
                                    action="created" if created else "edited",
                                    actor_id=by.id, changes=changes))
    return partner


def _fields(programme: Programme, spec: PartnerSpec, partner: Partner | None,
            problems: list[str]) -> dict:
    name = checked_line(spec.name, _("the partner's name"), problems,
                        _("Give the partner's name."))
    country = (spec.country or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        problems.append(_("Give the partner's country as two capital letters, as in ES."))
    else:
        country = COUNTRY_ALIASES.get(country, country)
        if country not in VALID_COUNTRIES:
            problems.append(_("%(country)s is not a country code.", country=country))
    currency = (spec.currency or "").strip().upper()
    problem = currency_problem(currency)
    if problem:
        problems.append(problem)
    if name and db.session.scalar(select(Partner.id).where(
            Partner.programme_id == programme.id, Partner.name == name,
            Partner.id != (partner.id if partner else 0))):
        problems.append(_("The programme already has a partner named %(name)s.", name=name))
    if spec.is_lead:
        lead = db.session.scalar(select(Partner).where(
            Partner.programme_id == programme.id, Partner.is_lead.is_(True),
            Partner.id != (partner.id if partner else 0)))
        if lead is not None:
            problems.append(_("%(partner)s is already the lead partner of %(programme)s, and "
                              "a programme has one lead partner: untick it there first.",
                              partner=lead.name, programme=programme.name))
    return {"name": name, "country": country, "currency": currency,
            "is_lead": bool(spec.is_lead)}


def _region_problems(programme: Programme, regions: list[RegionSpec],
                     partner: Partner | None) -> list[str]:
    problems = []
    ours = {region_key(c, r) for c, r in programme.regions or ()}
    for r in regions:
        label = f"{r.country} {r.region}"
        if region_key(r.country, r.region) not in ours:
            problems.append(_("%(region)s is not one of the programme's regions: add it to "
                              "the programme first (Edit the programme; as “%(example)s”).",
                              region=label, example=REGION_EXAMPLE))
            continue
        other = db.session.scalar(
            select(Partner).join(PartnerRegion, PartnerRegion.partner_id == Partner.id)
            .where(PartnerRegion.programme_id == programme.id,
                   PartnerRegion.country == r.country,
                   PartnerRegion.region_key == region_key_of(r.region),
                   Partner.id != (partner.id if partner else 0)))
        if other is not None:
            problems.append(_("%(region)s is already a region of %(partner)s; a region "
                              "belongs to one partner: take it out there first.",
                              region=label, partner=other.name))
    return problems


def _set_regions(partner: Partner, regions: list[RegionSpec]) -> bool:
    """Make the partner's regions ``regions``; whether which regions it covers changed."""
    wanted = {(r.country, region_key_of(r.region)): r for r in regions}
    before = {(row.country, row.region_key) for row in partner.regions}
    kept = {}
    for row in list(partner.regions):
        if (row.country, row.region_key) in wanted:
            kept[(row.country, row.region_key)] = row
        else:
            partner.regions.remove(row)
    # The removed rows go first: a region moved from one line to another keeps its key.
    db.session.flush()
    for key, r in wanted.items():
        row = kept.get(key)
        if row is None:
            partner.regions.append(PartnerRegion(
                programme_id=partner.programme_id, country=r.country, region=r.region,
                region_key=key[1], nuts_code=r.nuts_code))
        else:
            row.region, row.nuts_code = r.region, r.nuts_code
    return before != set(wanted)


def _lock_types(cvt_ids: list[int]) -> None:
    """Lock the types' rows before their shares are summed: "the shares total at most the
    envelope" is read-then-write, and another partner's share or the envelope itself
    (services/call_setup.py locks the row too) must not change in between. On PostgreSQL
    a row lock, read again with the envelope as committed; on SQLite atomic() already
    holds the write lock and FOR UPDATE is left out (as funding_line.lock_for_decision)."""
    if cvt_ids:
        db.session.scalars(
            select(CallVoucherType).where(CallVoucherType.id.in_(cvt_ids))
            .order_by(CallVoucherType.id).with_for_update()
            .execution_options(populate_existing=True)).all()


def _held(partner_id: int, cvt_id: int) -> Decimal:
    """What the partner's awarded vouchers of a type hold of its envelope now."""
    held = db.session.scalar(
        select(func.sum(Application.awarded_amount - Application.released_amount))
        .where(Application.partner_id == partner_id, Application.call_voucher_type_id == cvt_id,
               Application.awarded_amount.is_not(None)))
    return ZERO if held is None else Decimal(held).quantize(Decimal("0.01"))


def _share_problems(types: dict[int, CallVoucherType], shares: dict[int, Decimal | None],
                    partner: Partner | None) -> list[str]:
    problems = []
    own = {s.call_voucher_type_id: s for s in (partner.shares if partner else ())}
    for cvt_id, amount in shares.items():
        cvt = types.get(cvt_id)
        if cvt is None:
            problems.append(_("A share names a voucher type that is not of this programme."))
            continue
        label = f"{cvt.call.code} {_(cvt.label)}"
        if amount is None:
            # No share of its own (or no longer): its vouchers' money stays in the type's
            # envelope, which the ledger keeps whatever the shares say.
            continue
        if amount < 0 or amount > MAX_MONEY:
            problems.append(_("%(type)s: give the share as an amount of euros from 0.",
                              type=label))
            continue
        held = own[cvt_id].committed if cvt_id in own else (
            _held(partner.id, cvt_id) if partner else ZERO)
        if amount < held:
            problems.append(_("%(type)s: the partner's vouchers already hold %(held)s; the "
                              "share cannot be less.", type=label, held=eur(held)))
        others = db.session.scalar(select(func.sum(PartnerShare.envelope)).where(
            PartnerShare.call_voucher_type_id == cvt_id,
            PartnerShare.partner_id != (partner.id if partner else 0))) or ZERO
        if others + amount > cvt.envelope:
            problems.append(_(
                "%(type)s: the partners' shares would total %(total)s, more than the envelope "
                "of %(envelope)s (%(left)s is left for this partner).", type=label,
                total=eur(others + amount), envelope=eur(cvt.envelope),
                left=eur(max(cvt.envelope - others, ZERO))))
    return problems


def _set_shares(partner: Partner, types: dict[int, CallVoucherType],
                shares: dict[int, Decimal | None]) -> None:
    own = {s.call_voucher_type_id: s for s in partner.shares}
    for cvt_id, amount in shares.items():
        share = own.get(cvt_id)
        if amount is None:
            if share is not None:
                partner.shares.remove(share)
        elif share is None:
            partner.shares.append(PartnerShare(call_voucher_type_id=cvt_id, envelope=amount,
                                               committed=_held(partner.id, cvt_id)))
        else:
            share.envelope = amount


def _described(partner: Partner) -> dict[str, str]:
    return {"name": partner.name or "", "country": partner.country or "",
            "currency": partner.currency or "", "lead": "yes" if partner.is_lead else "no",
            "regions": "; ".join(f"{r.country} {r.region} ({r.nuts_code})"
                                 for r in partner.regions),
            "shares": "; ".join(f"{s.call_voucher_type_id}: {s.envelope}"
                                for s in sorted(partner.shares,
                                                key=lambda s: s.call_voucher_type_id))}


def set_user_partner(user: User, partner_id: int | None, by: User) -> None:
    """Say which partner a manager or an evaluator works for (None: the whole programme,
    for a manager); kept as a ChangeRecord."""
    policy.ensure(policy.can_run_programme(by), _(NOT_ALLOWED))
    if user.role not in (MANAGER, EVALUATOR):
        raise InvalidInput(_("Only managers and evaluators work for a partner."))
    partner = db.session.get(Partner, partner_id) if partner_id is not None else None
    if partner_id is not None and partner is None:
        raise InvalidInput(_("Choose one of the programme's partners, or none."))
    if user.partner_id == partner_id:
        raise InvalidInput(
            _("%(user)s already works for %(partner)s.", user=user.name, partner=partner.name)
            if partner else _("%(user)s already works for no partner.", user=user.name))
    old = db.session.get(Partner, user.partner_id) if user.partner_id else None
    with atomic():
        user.partner_id = partner_id
        record_change(user, "partner", by, {"partner": [old.name if old else "none",
                                                        partner.name if partner else "none"]})
