"""The manager's call set-up: programmes, calls, voucher types, budgets and criteria."""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from .. import policy
from ..boundary import back_to, by_id, route, see_other
from ..models import Call, Programme
from ..models.base import utcnow
from ..models.programmes import CALL_CLOSED, CALL_OPEN, CALL_UPCOMING
from ..navigation import nav_item
from ..services import call_leads, call_rules, call_setup
from ..services import calls as call_lists
from ..services.call_specs import format_regions
from .blueprint import bp
from .forms_call_rules import regions_hint
from .forms_calls import ADD_ROW, edit_call_form, new_call_form
from .forms_programmes import ProgrammeForm, programme_form

nav_item("manager", lazy_gettext("Calls"), "manager.calls", order=30)

# A call's status as the pages show it (the model's labels, in the reader's language).
STATUS_LABELS = {CALL_UPCOMING: lazy_gettext("Upcoming"), CALL_OPEN: lazy_gettext("Open"),
                 CALL_CLOSED: lazy_gettext("Closed")}


def _problems(error: str | None) -> list[str]:
    # A set-up refusal lists one broken rule a line (call_specs.SetupRefused).
    return error.splitlines() if error else []


@route(bp, "/calls", permission=policy.can_manage)
def calls():
    return render_template("manager/calls.html", calls=call_lists.newest_calls(),
                           programmes=call_lists.programmes_with_call_counts(), now=utcnow(),
                           status_labels=STATUS_LABELS)


def _programme_page(form, error=None, programme: Programme | None = None):
    return render_template("manager/calls_programme.html", form=form, programme=programme,
                           problems=_problems(error))


@route(bp, "/programmes/new", permission=policy.can_run_programme, form=ProgrammeForm,
       render=_programme_page)
def new_programme(form):
    programme = call_setup.create_programme(current_user, **form.to_fields())
    flash(_("Programme %(name)s created. Now set up its first call.", name=programme.name),
          "success")
    return see_other(".new_call", programme=programme.id)


@route(bp, "/programmes/<int:programme_id>/edit", permission=policy.can_run_programme,
       load={"programme": by_id(Programme)}, form=programme_form, render=_programme_page)
def edit_programme(form, programme: Programme):
    call_setup.update_programme(programme, current_user, **form.to_fields())
    flash(_("Programme %(name)s saved.", name=programme.name), "success")
    return see_other(".calls")


def _call_page(form, error=None, call: Call | None = None):
    programme = form.programme
    return render_template("manager/calls_form.html", form=form, call=call,
                           problems=_problems(error) + list(form.form_errors), add_row=ADD_ROW,
                           regions_hint=regions_hint([programme] if programme
                                                     else call_lists.programmes()),
                           regions_placeholder=format_regions(programme and programme.regions),
                           rules=call_rules.describe(call) if call else None)


def _programme_first():
    if not call_lists.programmes():
        return back_to(".new_programme", _("Calls belong to a programme: create the "
                                           "programme first."), "info")
    return None


@route(bp, "/calls/new", permission=policy.can_run_programme, before=_programme_first,
       form=lambda: new_call_form(call_lists.programmes(), call_leads.lead_candidates()),
       render=_call_page,
       rework=lambda form: form.reworked())
def new_call(form):
    call = call_setup.create_call(form.programme_id.data, form.to_spec(), current_user)
    flash(_("Call %(code)s created.", code=call.code), "success")
    return see_other(".edit_call", call_id=call.id)


@route(bp, "/calls/<int:call_id>/edit", permission=policy.can_run_programme,
       load={"call": by_id(Call)},
       form=lambda call: edit_call_form(call, call_leads.lead_candidates(call)),
       render=_call_page,
       rework=lambda form: form.reworked())
def edit_call(form, call: Call):
    call_setup.update_call(call, form.to_spec(), current_user)
    flash(_("Call %(code)s saved.", code=call.code), "success")
    return see_other(".edit_call", call_id=call.id)
