"""The consortium summary for the lead partner: one row per partner and reporting period,
what each declared (a draft: what it would declare now), from services/partner_reports.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Partner, PartnerReport, Programme, User
from ..models.partners import REPORT_SUBMITTED
from .partner_reports import frozen_lines, report_lines
from .rates import EUR, MissingRate


@dataclass(frozen=True)
class SummaryRow:
    partner: str
    country: str
    currency: str
    number: int
    period_start: date
    period_end: date
    status: str
    # The lines in the partner's currency; a partner not in EUR also has lines in EUR (a
    # recovery, a payment made in EUR), shown apart: the two do not add up unconverted.
    declared_in_currency: Decimal
    declared_in_eur_lines: Decimal | None  # None: the partner's currency is EUR
    declared_eur: Decimal | None  # all lines converted; None: a draft lacking a rate


def partners_of(programme: Programme) -> list[Partner]:
    return list(db.session.scalars(select(Partner).where(
        Partner.programme_id == programme.id).order_by(Partner.is_lead.desc(), Partner.name)))


def consortium_programme(user: User) -> Programme | None:
    """The programme whose consortium a lead manager reports on: their partner's, else
    (a manager of no partner) the latest programme with partners."""
    partner = db.session.get(Partner, user.partner_id) if user.partner_id else None
    if partner is not None:
        return db.session.get(Programme, partner.programme_id)
    return db.session.scalar(select(Programme).join(
        Partner, Partner.programme_id == Programme.id).order_by(Programme.id.desc()).limit(1))


def consortium_summary(programme: Programme, now: datetime | None = None) -> list[SummaryRow]:
    """One row per partner and period: what it declared (a draft: what it would now).
    Read in a fixed number of queries per draft, whatever the number of partners' periods:
    the reports with their frozen lines at once, the programme's rule and rates once."""
    partners = partners_of(programme)
    by_partner: dict[int, list[PartnerReport]] = {partner.id: [] for partner in partners}
    for report in db.session.scalars(
            select(PartnerReport).where(PartnerReport.partner_id.in_(by_partner))
            .options(selectinload(PartnerReport.lines)).order_by(PartnerReport.number)):
        by_partner[report.partner_id].append(report)
    frozen = frozen_lines([report for reports in by_partner.values() for report in reports
                           if report.status == REPORT_SUBMITTED])
    rates: dict[str, Decimal | MissingRate] = {}
    rows = []
    for partner in partners:
        for report in by_partner[partner.id]:
            lines = frozen.get(report.id) or report_lines(
                report, now, rule=programme.rate_rule, cache=rates)
            rows.append(SummaryRow(
                partner.name, partner.country, partner.currency, report.number,
                report.period_start, report.period_end, report.status,
                lines.declared_in(partner.currency),
                None if partner.currency == EUR else lines.declared_in(EUR),
                lines.declared_eur))
    return rows
