"""The manager's read API: the applications table, one application, payments due, budgets.

Each route reads what the manager's page of the same name reads, through the same
service and behind the same permission: the table (services/listing.py, filtered by the
page's own filter form, a partner manager's regions only), one application
(services/application_page.py), the payments due of a call (services/payment_batches.py,
the lead partner's as the payments page), a call's budget per voucher type
(services/call_figures.py, the lead partner's as the call's dashboard). The lifecycle
actions are vouchers/api/manager_actions.py's.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from wtforms import SelectChoice

from .. import policy
from ..boundary import by_id
from ..extensions import db
from ..manager.forms import ApplicationFilterForm
from ..models import Application, Call
from ..models.base import MAX_ID, utcnow
from ..services import listing
from ..services import payment_batches as batches
from ..services.application_page import application_page
from ..services.call_figures import call_type_figures
from ..services.calls import calls_open_first
from .boundary import api_route
from .identity import api_blueprint
from .manager_schemas import (
    TABLE_FIELDS,
    TABLE_PARAMETERS,
    ManageApplicationDetailSchema,
    ManageApplicationsQuerySchema,
    ManageBudgetSchema,
    ManageDuePaymentPageSchema,
    ManagePaymentsQuerySchema,
    ManageTablePageSchema,
    application_detail,
    due_payment,
    json_form_as,
    table_page,
    type_budget,
)
from .schemas import page_links

bp = api_blueprint("manager", __name__, "/manage",
                   "The programme manager's reads: applications, payments due, budgets.")
BLUEPRINTS = [bp]

APPLICATION = {"application": by_id(Application)}
CALL = {"call": by_id(Call)}


def _filter_form(viewer):
    """The page's filter form, with the choices the page gives it: every call, and the
    countries of the applicants ``viewer`` reaches."""

    def build(**kwargs) -> ApplicationFilterForm:
        form = ApplicationFilterForm(**kwargs)
        form.call.choices = [SelectChoice(c.id, c.code) for c in calls_open_first(utcnow())]
        form.country.choices = [SelectChoice("", "All countries")] + [
            SelectChoice(c, c) for c in listing.countries(viewer)]
        return form

    return build


def _table_query(form: ApplicationFilterForm) -> listing.TableQuery:
    return listing.TableQuery(
        call_id=form.call.data, voucher_type=form.type.data or None,
        state=form.state.data or None, country=form.country.data or None,
        needs=form.needs.data or None, text=(form.q.data or "").strip(), sort=form.sort.data,
        direction=form.dir.data, page=form.page.data or 1, per_page=form.per_page.data,
    )


def _table_links(query: listing.TableQuery, page: listing.TablePage) -> dict:
    params = {"call_id": query.call_id, "voucher_type": query.voucher_type,
              "state": query.state, "country": query.country, "needs": query.needs,
              "q": query.text or None, "sort": query.sort, "direction": query.direction,
              "per_page": page.per_page}
    return page_links("api_manager.applications", page.page, page.pages,
                      **{k: v for k, v in params.items() if v not in (None, "")})


@api_route(bp, "/applications", permission=policy.can_manage)
@bp.arguments(ManageApplicationsQuerySchema, location="query")
@bp.response(200, ManageTablePageSchema)
def applications(args):
    """One page of a call's applications table, as the manager's page filters, sorts and
    pages it (a partner manager's regions only). A page past the end is the last page."""
    viewer = current_user._get_current_object()
    form = json_form_as(_filter_form(viewer),
                        {TABLE_FIELDS.get(k, k): v for k, v in args.items()},
                        lambda name: TABLE_PARAMETERS.get(name, name))
    query = _table_query(form)
    page = listing.applications_page(query, viewer)
    return table_page(page, _table_links(query, page))


@api_route(bp, "/applications/<int:application_id>", permission=policy.can_manage,
           load=APPLICATION)
@bp.etag
@bp.response(200, ManageApplicationDetailSchema)
def application(application: Application):
    """One application as the manager's page shows it: its content, its reviews (with the
    evaluators' names), its audit trail and its money."""
    return application_detail(application_page(application))


@api_route(bp, "/payments", permission=policy.can_manage_payments)
@bp.arguments(ManagePaymentsQuerySchema, location="query")
@bp.response(200, ManageDuePaymentPageSchema)
def payments(args):
    """The payments due of a call that the payments page lists (every voucher with money
    due now and not in an open batch; those that cannot be paid by SEPA say why)."""
    call = db.session.get(Call, args["call_id"]) if 0 < args["call_id"] <= MAX_ID else None
    if call is None:
        abort(404)
    dues = batches.due_payments(call)
    page, per_page = args["page"], args["per_page"]
    pages = max(1, -(-len(dues) // per_page))
    page = min(page, pages)
    shown = dues[(page - 1) * per_page:page * per_page]
    return {"call_id": call.id, "items": [due_payment(d) for d in shown], "total": len(dues),
            "page": page, "per_page": per_page,
            "links": page_links("api_manager.payments", page, pages, call_id=call.id,
                                per_page=per_page)}


@api_route(bp, "/calls/<int:call_id>/budget", permission=policy.can_run_programme,
           load=CALL)
@bp.etag
@bp.response(200, ManageBudgetSchema)
def budget(call: Call):
    """The call's budget per voucher type, as its dashboard and the funder's workbook
    count it: envelope, committed, paid, outstanding, quota and what is left."""
    return {"call": {"id": call.id, "code": call.code, "title": call.title},
            "currency": call.programme.currency,
            "voucher_types": [type_budget(f) for f in call_type_figures(db.session, call.id)]}
