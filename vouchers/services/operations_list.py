"""The public list of operations (Regulation (EU) 2021/1060, Art. 49(3)), read live.

Which vouchers: those selected (awarded, and every state after it up to paid; not a
cancelled one) whose applicant agreed at submission to be published
(Application.publication_consent). What of them: only the fields the list publishes
(exports/operations_list.OperationRow). The beneficiary is the company's legal name: the
list names legal persons, so no person's name, e-mail, phone, VAT, IBAN or registry
number is even read from the database here.

Live: computed from the database at each request, so an award appears and a cancellation
disappears at once, and no stored copy can fall behind. One query reads the vouchers with
their company, call, programme, partner and cost total, and one more the partner regions
(matched in Python with the same region key as services/partners.py), whatever the
number of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from exports.operations_list import OperationRow
from workflows.lifecycle import VOUCHER_STATES

from .. import voucher_types as types
from ..clock import local_date, today
from ..extensions import db
from ..models import (
    Application,
    Call,
    CallVoucherType,
    CostLine,
    Organisation,
    Partner,
    PartnerRegion,
    Programme,
)
from ..models.base import MAX_ID
from ..policy_partners import region_key_of
from . import deadlines

HUNDRED = Decimal("100")
PERCENT = Decimal("0.01")


def programmes() -> list[Programme]:
    """The programmes a visitor may filter the list by."""
    return list(db.session.scalars(select(Programme).order_by(Programme.name, Programme.id)))


def programme_named(programme_id: int) -> Programme | None:
    """The programme of the page's filter (?programme=), if it exists."""
    if not 0 < programme_id <= MAX_ID:
        return None
    return db.session.get(Programme, programme_id)


def _select(programme_id: int | None):
    a = Application
    costs = (select(CostLine.application_id, func.sum(CostLine.amount).label("total"))
             .group_by(CostLine.application_id).subquery())
    stmt = (
        # The company's columns one by one: its VAT, IBAN and registry number never
        # reach this code, so no later edit can publish them by mistake.
        select(a, Organisation.legal_name, Organisation.country, Organisation.region,
               CallVoucherType.funding_rate, Partner.name.label("partner"),
               costs.c.total)
        .join(a.call).join(Call.programme)
        .join(Organisation, Organisation.id == a.organisation_id)
        .join(CallVoucherType, CallVoucherType.id == a.call_voucher_type_id)
        .outerjoin(Partner, Partner.id == a.partner_id)
        .outerjoin(costs, costs.c.application_id == a.id)
        .options(contains_eager(a.call).contains_eager(Call.programme))
        .where(a.state.in_(sorted(VOUCHER_STATES)), a.publication_consent.is_(True))
        .order_by(Programme.name, Programme.id, a.awarded_at, a.id)
    )
    if programme_id is not None:
        stmt = stmt.where(Call.programme_id == programme_id)
    return stmt


def _regions(programme_id: int | None) -> dict[tuple[int, str, str], PartnerRegion]:
    stmt = select(PartnerRegion)
    if programme_id is not None:
        stmt = stmt.where(PartnerRegion.programme_id == programme_id)
    return {(r.programme_id, r.country, r.region_key): r for r in db.session.scalars(stmt)}


def operations(programme_id: int | None = None, on: date | None = None
               ) -> Iterator[OperationRow]:
    """The list's rows, of one programme or all, as of today (``on``)."""
    listed_on = on or today()
    regions = _regions(programme_id)
    for a, name, country, region, funding_rate, partner, total in db.session.execute(
            _select(programme_id)):
        awarded_on = local_date(a.awarded_at)
        place = regions.get((a.call.programme_id, (country or "").strip().upper(),
                             region_key_of(region)))
        yield OperationRow(
            programme=a.call.programme.name,
            partner=partner or "",
            reference=a.reference,
            beneficiary=name,
            operation=a.title,
            purpose=f"{types.label(a.voucher_type)} voucher",
            start_date=awarded_on,
            # As the report deadline counts it: the activity's end, never before the award.
            end_date=max(deadlines.activity_end(a, awarded_on), awarded_on),
            # The planned costs, as the selection judged them. Cost lines are EUR whatever
            # the partner's currency (Application.currency is that of the final report and
            # the payments): the form asks for "Amount (EUR)" and the submission compares
            # them with the EUR request and ceiling; so they are published unconverted.
            total_cost=total,
            cofinancing_rate=(funding_rate * HUNDRED).quantize(PERCENT),
            amount=a.committed_amount,
            region=place.region if place else "",
            nuts_code=place.nuts_code if place else "",
            country=country,
            list_date=listed_on,
        )
