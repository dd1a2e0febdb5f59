"""The calls overview and each call's dashboard (budget chart and counts per state)."""

from flask import flash, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_login import current_user

from .. import policy
from ..boundary import back_to, by_id, route, see_other
from ..models import Call
from ..models.base import utcnow
from ..navigation import nav_item
from ..services import bank_details, reserve
from ..services.assignment import AutoAssignResult, wanted_per_application
from ..services.assignment import auto_assign as auto_assign_service
from ..services.dashboard import call_dashboard, call_summaries
from ..services.needs import call_actions, calls_needing_action
from .blueprint import bp
from .forms import AutoAssignForm

nav_item("manager", lazy_gettext("Dashboard"), "manager.dashboard_home", order=10)
nav_item("manager", lazy_gettext("Applications"), "manager.applications", order=20)

# Short lists read better in a flash message than a wall of references.
_SHORT_LIST_SHOWN = 10


def auto_assign_form(return_to: str) -> AutoAssignForm:
    form = AutoAssignForm(formdata=None, per_application=wanted_per_application())
    form.return_to.data = return_to
    return form


@route(bp, "/", permission=policy.can_manage)
def dashboard_home():
    now = utcnow()
    summaries = call_summaries(now, current_user)
    # The list of bank changes is the whole programme's (a partner manager confirms one
    # from its company's page).
    pending = bank_details.pending_count() if policy.can_run_programme(current_user) else 0
    return render_template("manager/dashboard.html", board=None, summaries=summaries,
                           actions=calls_needing_action([s.call for s in summaries], now,
                                                        current_user),
                           bank_changes=pending)


@route(bp, "/calls/<int:call_id>/dashboard", permission=policy.can_run_programme,
       load={"call": by_id(Call)})
def dashboard(call: Call):
    now = utcnow()
    offers = reserve.offers(call, now)  # drawn below the budget, counted among the needs
    return render_template("manager/dashboard.html", board=call_dashboard(call),
                           actions=[call_actions(call, now, offers=offers)],
                           auto_form=auto_assign_form("dashboard"), offers=offers)


def _back(form: AutoAssignForm, call: Call) -> tuple[str, dict]:
    """Back to the page the form was sent from: the applications table or the dashboard."""
    if form.return_to.data == "applications":
        return "manager.applications", {"call": call.id}
    return "manager.dashboard", {"call_id": call.id}


def _refused(*, form: AutoAssignForm, error: str | None, call: Call):
    """A list page shows a refusal (or the form's errors) as a flash message."""
    messages = [error] if error else [m for errors in form.errors.values() for m in errors]
    endpoint, values = _back(form, call)
    return back_to(endpoint, _("Evaluators not assigned: %(reasons)s",
                               reasons=" ".join(str(m) for m in messages)), **values)


def _report(result: AutoAssignResult, n: int) -> None:
    if result.made:
        applications = ngettext("%(num)s application", "%(num)s applications",
                                result.applications)
        flash(ngettext("Made %(num)s assignment to %(applications)s.",
                       "Made %(num)s assignments to %(applications)s.", result.made,
                       applications=applications), "success")
    elif not result.short:
        flash(ngettext("Every application under review already has %(num)s evaluator.",
                       "Every application under review already has %(num)s evaluators.", n),
              "success")
    if result.short:
        listed = ", ".join(f"{ref} ({got})" for ref, got in result.short[:_SHORT_LIST_SHOWN])
        more = len(result.short) - _SHORT_LIST_SHOWN
        if more > 0:
            listed = _("%(listed)s and %(more)s more", listed=listed, more=more)
        evaluators = ngettext("%(num)s evaluator", "%(num)s evaluators", n)
        flash(ngettext("%(num)s application could not get %(evaluators)s (no other eligible "
                       "evaluator): %(listed)s.",
                       "%(num)s applications could not get %(evaluators)s (no other eligible "
                       "evaluator): %(listed)s.", len(result.short),
                       evaluators=evaluators, listed=listed), "error")


@route(bp, "/calls/<int:call_id>/auto-assign", methods=("POST",),
       permission=policy.can_run_programme, load={"call": by_id(Call)}, form=AutoAssignForm,
       render=_refused)
def auto_assign(form: AutoAssignForm, call: Call):
    n = form.per_application.data
    _report(auto_assign_service(call, n, current_user), n)
    endpoint, values = _back(form, call)
    return see_other(endpoint, **values)
