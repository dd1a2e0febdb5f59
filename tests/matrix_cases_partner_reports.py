"""Authorization-matrix cases of issue 11's partner reports; see tests/matrix_cases.py.

``world_args`` gives the world a draft report of the world SME's partner
(``partner_report_id``; ``partner_id`` is tests/matrix_cases_partners.py's), which
WORLD_SME_ARGS there names, so the other partner's manager is refused it.
"""

from __future__ import annotations

from datetime import timedelta

from tests.matrix_cases import Post, case, url
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Partner, PartnerReport
from vouchers.models.partners import REPORT_SUBMITTED
from vouchers.services import partner_reports


def world_args(make, users: dict, args: dict) -> dict:
    partner = db.session.get(Partner, args["partner_id"])
    report = partner_reports.open_next_period(partner, users["manager"], today())
    db.session.commit()
    return {"partner_report_id": report.id}


def _partner(make) -> tuple[Partner, object]:
    """A partner of a programme of its own, with one of its managers."""
    programme = make.call().programme
    partner = make.partner(programme, "Matrix Agency", "DK", "DKK",
                           regions=[("DK", "Capital Region", "DK01")])
    return partner, make.manager(partner=partner)


@case("manager.open_partner_period")
def _(make):
    partner, manager = _partner(make)

    def opened() -> bool:
        return db.session.scalar(db.select(PartnerReport.id).where(
            PartnerReport.partner_id == partner.id)) is not None

    return Post("partner_manager", manager,
                url("manager.open_partner_period", partner_id=partner.id),
                data={"period_end": today().isoformat()}, done=opened)


@case("manager.submit_partner_report")
def _(make):
    partner, manager = _partner(make)
    report = partner_reports.open_next_period(partner, manager, today())
    db.session.commit()
    return Post("partner_manager", manager,
                url("manager.submit_partner_report", partner_report_id=report.id),
                data={"confirm": "y"}, done=lambda: report.status == REPORT_SUBMITTED)


@case("manager.change_partner_period")
def _(make):
    partner, manager = _partner(make)
    report = partner_reports.open_next_period(partner, manager, today())
    db.session.commit()
    later = today() + timedelta(days=30)
    return Post("partner_manager", manager,
                url("manager.change_partner_period", partner_report_id=report.id),
                data={"period_end": later.isoformat()}, done=lambda: report.period_end == later)
