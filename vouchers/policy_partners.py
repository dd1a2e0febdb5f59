"""Who reaches what in a consortium (issue 11): a partner manager, the lead partner.

A manager whose partner is not the programme's lead partner works on the SMEs of that
partner's regions only: their applications and everything hanging from them (files,
reviews, reports, payments, messages), their companies (aid, bank details) and the
partner's own reports. Anything else answers 404, as for applicants. Managers of the lead
partner, and managers of no partner, see the whole programme; what concerns the whole
programme (calls, budgets, the funding line, users, batches, the funder's exports) is
theirs alone (``can_run_programme``).

``reaches`` is asked by the boundary about every object a route loads, and by the
predicates of vouchers/policy.py about the object they are given; ``application_scope``
is the same rule as a condition for the lists and counts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, select, true
from sqlalchemy.sql.elements import ColumnElement

from workflows.lifecycle import MANAGER

from .extensions import db
from .models import Application, Organisation, Partner, PartnerRegion, PartnerReport
from .services.call_specs import region_key


def _manager(user: Any) -> bool:
    return (user is not None and bool(getattr(user, "is_authenticated", False))
            and user.enabled and user.role == MANAGER)


def partner_scope(user: Any) -> int | None:
    """The partner whose SMEs ``user`` is limited to, or None: the whole programme."""
    if not _manager(user) or user.partner_id is None:
        return None
    partner = db.session.get(Partner, user.partner_id)
    return None if partner is None or partner.is_lead else partner.id


def can_run_programme(user: Any, obj: Any = None) -> bool:
    """What concerns the whole programme: managers of the lead partner (or of none)."""
    return _manager(user) and partner_scope(user) is None


def region_key_of(region: str | None) -> str:
    """A region's name as partner regions store it: services/call_specs.region_key's."""
    return region_key("", region or "")[1]


def reaches(user: Any, obj: Any) -> bool:
    """Whether ``obj`` is within ``user``'s partner scope (always, without one)."""
    scope = partner_scope(user)
    if scope is None or obj is None:
        return True
    if isinstance(obj, Application):
        return obj.partner_id == scope
    if isinstance(obj, Organisation):
        return bool(db.session.scalar(select(exists().where(
            Organisation.id == obj.id, organisation_scope(user)))))
    if isinstance(obj, PartnerReport):
        return obj.partner_id == scope
    if isinstance(obj, Partner):
        return obj.id == scope
    # Files, payments, reports, assignments, messages: their application's; aid and bank
    # details: their company's.
    # A message's file: its message's.
    for parent in ("application", "organisation", "message"):
        owner = getattr(obj, parent, None)
        if owner is not None:
            return reaches(user, owner)
    # Programme-wide objects (calls, providers, users, batches): their predicates decide.
    return True


def application_scope(user: Any) -> ColumnElement[bool]:
    """``reaches`` for Application rows, as a query condition."""
    scope = partner_scope(user)
    return true() if scope is None else Application.partner_id == scope


def organisation_scope(user: Any) -> ColumnElement[bool]:
    """``reaches`` for Organisation rows, as a query condition: a company that applied
    to the partner, or is based in one of its regions (names compared case aside)."""
    scope = partner_scope(user)
    if scope is None:
        return true()
    own = exists().where(Application.organisation_id == Organisation.id,
                         Application.partner_id == scope)
    region = exists().where(and_(
        PartnerRegion.partner_id == scope, PartnerRegion.country == Organisation.country,
        PartnerRegion.region_key == func.lower(func.trim(Organisation.region))))
    return own | region


def can_view_partner_reports(user: Any, partner: Any = None) -> bool:
    """A partner's reports: its own managers, and the lead partner's."""
    return _manager(user) and reaches(user, partner)


def can_submit_partner_report(user: Any, report: Any = None) -> bool:
    """A draft period is submitted by its partner's managers or the lead's."""
    return (_manager(user) and reaches(user, report)
            and (report is None or report.status == "draft"))


def can_view_consortium(user: Any, obj: Any = None) -> bool:
    """The consortium summary of all partners' reports: the lead partner's managers."""
    return can_run_programme(user)
