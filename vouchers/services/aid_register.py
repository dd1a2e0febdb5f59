"""The de minimis register: each award recorded as aid, with what a central register asks.

Member states keep central registers of de minimis aid from 2026 (Regulation (EU)
2023/2831, Art. 6): the undertaking, its VAT number, the granting authority, the date
granted and the amount. The row is written with the award, as the facts stood then; the
aid actually given (the award less what close-out or cancellation released) is read from
the voucher when the register is exported.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..clock import local_date
from ..extensions import db
from ..models import Application, Call, DeMinimisGrant


def granting_authority(application: Application) -> str:
    programme = application.call.programme
    return programme.granting_authority or programme.funder


def record_grant(application: Application, now: datetime) -> DeMinimisGrant:
    """Enter the award in the register (inside the award's atomic())."""
    organisation = application.organisation
    grant = DeMinimisGrant(
        application_id=application.id, organisation_id=organisation.id,
        undertaking=organisation.legal_name, country=organisation.country,
        vat_number=organisation.vat_number or "", registry_number=organisation.registry_number,
        granting_authority=granting_authority(application), granted_on=local_date(now),
        amount=application.awarded_amount, recorded_at=now,
    )
    db.session.add(grant)
    return grant


def grants(call: Call | None = None) -> list[tuple[DeMinimisGrant, Application]]:
    """The register's rows (of one call, or all), in the order granted."""
    query = (select(DeMinimisGrant, Application)
             .join(Application, Application.id == DeMinimisGrant.application_id)
             .order_by(DeMinimisGrant.granted_on, DeMinimisGrant.id))
    if call is not None:
        query = query.where(Application.call_id == call.id)
    return list(db.session.execute(query).tuples())
