"""Which partner agency follows an SME: the one whose regions hold the company's region.

An application takes its partner (and the currency its costs are given in) when it is
started and again when submitted; a company that moves region, or a partner whose regions
change, moves the applications with it (``refresh_organisation``, ``refresh_programme``).
A voucher stays with the partner that awarded it: its money is held in that partner's
share and paid in that currency, so only applications not yet awarded move.
"""

from __future__ import annotations

from sqlalchemy import select, update

from ..extensions import db
from ..models import Application, Call, Organisation, Partner, PartnerRegion
from ..policy_partners import region_key_of

EUR = "EUR"


def partner_of(programme_id: int, country: str, region: str) -> Partner | None:
    """The programme's partner covering (country, region), if any."""
    return db.session.scalar(
        select(Partner).join(PartnerRegion, PartnerRegion.partner_id == Partner.id)
        .where(PartnerRegion.programme_id == programme_id,
               PartnerRegion.country == (country or "").strip().upper(),
               PartnerRegion.region_key == region_key_of(region))
    )


def place(application: Application) -> Partner | None:
    """Give ``application`` the partner of its company's region, and that currency
    (a voucher keeps its own: see the module's docstring)."""
    if application.awarded_at is not None:
        return db.session.get(Partner, application.partner_id) if application.partner_id else None
    organisation = db.session.get(Organisation, application.organisation_id)
    call = db.session.get(Call, application.call_id)
    partner = partner_of(call.programme_id, organisation.country, organisation.region)
    application.partner_id = partner.id if partner else None
    application.currency = partner.currency if partner else EUR
    return partner


def refresh_organisation(organisation: Organisation) -> None:
    """After a company's region changed: its applications follow the new partner."""
    for application in db.session.scalars(
            select(Application).where(Application.organisation_id == organisation.id)):
        place(application)


def refresh_programme(programme_id: int) -> None:
    """After a partner's regions changed: every application of the programme is placed
    again, one UPDATE per partner region and one for the rest."""
    calls = select(Call.id).where(Call.programme_id == programme_id)
    movable = Application.awarded_at.is_(None)
    db.session.execute(update(Application).where(Application.call_id.in_(calls), movable)
                       .values(partner_id=None, currency=EUR)
                       .execution_options(synchronize_session=False))
    for region in db.session.scalars(
            select(PartnerRegion).where(PartnerRegion.programme_id == programme_id)):
        companies = select(Organisation.id).where(Organisation.country == region.country)
        matching = [o.id for o in db.session.scalars(
            select(Organisation).where(Organisation.id.in_(companies)))
            if region_key_of(o.region) == region.region_key]
        if not matching:
            continue
        db.session.execute(
            update(Application).where(Application.call_id.in_(calls), movable,
                                      Application.organisation_id.in_(matching))
            .values(partner_id=region.partner_id, currency=region.partner.currency)
            .execution_options(synchronize_session=False))
    db.session.expire_all()
