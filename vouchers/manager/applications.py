"""The applications table, an application's page with its actions, and hand assignment.

Every action posts to /applications/<id>/actions/<name>: one route through the boundary,
one entry of ACTIONS per name (its form, the service it calls, and the policy predicate
that decides whether the page offers it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from workflows.lifecycle import TRANSITIONS_BY_TRIGGER

from .. import policy
from ..boundary import by, by_id, route, see_other
from ..clock import today
from ..i18n import N_
from ..models import Application, User
from ..models.base import utcnow
from ..services import listing, payments, reporting, settlement, transitions
from ..services.application_page import ApplicationPage, application_page, assign_evaluator
from ..services.calls import calls_open_first
from ..services.voucher_money import payment_kind
from .blueprint import bp
from .dashboard import auto_assign_form
from .forms import (
    ApplicationFilterForm,
    AssignForm,
    AwardForm,
    ButtonForm,
    ChangesForm,
    CommentForm,
    PaymentForm,
    ReasonForm,
)
from .forms_eligibility import AcceptExceptionForm, exception_key, prefix_of
from .forms_money import money_forms

# --- The applications table -------------------------------------------------------------


def _filter_form(calls, viewer: User) -> ApplicationFilterForm:
    form = ApplicationFilterForm(request.args)
    form.call.choices = [SelectChoice(c.id, f"{c.code} · {c.title}") for c in calls]
    form.country.choices = [SelectChoice("", _("All countries"))] + [
        SelectChoice(c, c) for c in listing.countries(viewer)
    ]
    if not request.args.get("call") and calls:
        form.call.data = calls[0].id
    return form


def _select_html(field) -> Markup:
    """A filter's <select> as wtforms' Select widget writes it (same attributes, same
    order), without the widget's per-option attribute formatting: with some fifty options
    that was a third of the table's own time. Only for the plain selects of the filter
    form (no groups, no flags, no extra attributes)."""
    coerce, data = field.coerce, field.data  # as SelectField.iter_choices compares them
    options = "".join(
        f'<option {"selected " if coerce(c.value) == data else ""}value="{escape(c.value)}">'
        f"{escape(c.label or c.value)}</option>"
        for c in field.choices)
    return Markup(f'<select id="{escape(field.id)}" name="{escape(field.name)}">'
                  f"{options}</select>")


def _table_query(form: ApplicationFilterForm) -> listing.TableQuery:
    return listing.TableQuery(
        call_id=form.call.data, voucher_type=form.type.data or None,
        state=form.state.data or None, country=form.country.data or None,
        needs=form.needs.data or None, text=(form.q.data or "").strip(), sort=form.sort.data,
        direction=form.dir.data, page=form.page.data or 1, per_page=form.per_page.data,
    )


def _page_url(query: listing.TableQuery, page: listing.TablePage) -> Callable[..., str]:
    """Links that keep the filters and change what is asked (page=, sort=, dir=)."""
    params = {"call": query.call_id, "type": query.voucher_type, "state": query.state,
              "country": query.country, "needs": query.needs, "q": query.text or None,
              "sort": query.sort, "dir": query.direction, "per_page": page.per_page,
              "page": page.page}

    def page_url(**changes) -> str:
        merged = {**params, **changes}
        return url_for("manager.applications",
                       **{k: v for k, v in merged.items() if v not in (None, "")})

    return page_url


@route(bp, "/applications", permission=policy.can_manage)
def applications():
    viewer = current_user._get_current_object()  # read often: not through the proxy
    calls = calls_open_first(utcnow())
    form = _filter_form(calls, viewer)
    if not calls or not form.validate():
        status = 400 if calls else 200
        return render_template("manager/applications.html", form=form, call=None,
                               page=None), status
    query = _table_query(form)
    page = listing.applications_page(query, viewer)
    return render_template("manager/applications.html", form=form, page=page, query=query,
                           call=next(c for c in calls if c.id == query.call_id),
                           page_url=_page_url(query, page), select_html=_select_html,
                           auto_form=auto_assign_form("applications"))


# --- The application page ---------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str
    form: type
    run: Callable[[Application, User, Any], object]
    done: str  # marked with N_: flashed in the reader's language
    # Whether the page offers it; by default, whether the lifecycle lets the user fire
    # the transition of the same name from the application's state.
    allowed: Callable[[User, Application], bool] | None = None
    # The button's label; by default the lifecycle transition's own.
    label: str = ""

    def __post_init__(self):
        if not self.label:
            object.__setattr__(self, "label", TRANSITIONS_BY_TRIGGER[self.name].label)

    def offered(self, user: User, application: Application) -> bool:
        if self.allowed is not None:
            return self.allowed(user, application)
        return policy.can_fire(user, application, self.name)


def _comment(form) -> str:
    return form.comment.data or ""


def _pay(a: Application, u: User, f: PaymentForm):
    return payments.record_payment(
        a, u, **payments.entered_amount(a, f.amount.data), paid_on=f.paid_on.data,
        reference=f.reference.data or "",
        invoice_number=f.invoice_number.data or "", invoice_date=f.invoice_date.data,
        kind=f.kind.data)


def _payment_offered(user: User, application: Application) -> bool:
    """The form is offered while something is due and no payment batch will pay it (the
    page says so instead)."""
    return (policy.can_record_payment(user, application)
            and settlement.due(application) is not None
            and not settlement.in_open_batch(application))


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("start_review", ButtonForm,
           lambda a, u, f: transitions.start_review(a, u), N_("Review started.")),
    Action("award", AwardForm,
           lambda a, u, f: transitions.award(a, u, f.amount.data, comment=_comment(f)),
           N_("Voucher awarded.")),
    Action("reject", ReasonForm,
           lambda a, u, f: transitions.reject(a, u, _comment(f)),
           N_("Application rejected.")),
    Action("waitlist", CommentForm,
           lambda a, u, f: transitions.waitlist(a, u, _comment(f)),
           N_("Application waitlisted.")),
    Action("return_for_changes", ChangesForm,
           lambda a, u, f: transitions.return_for_changes(a, u, _comment(f)),
           N_("Application returned to the applicant for changes.")),
    Action("cancel", ReasonForm,
           lambda a, u, f: transitions.cancel(a, u, _comment(f)),
           N_("Voucher cancelled; its amount is back in the envelope.")),
    Action("start_reporting", ButtonForm,
           lambda a, u, f: reporting.start_reporting(a, u),
           N_("The applicant can now write the final report.")),
    Action("approve_report", CommentForm,
           lambda a, u, f: reporting.approve_report(a, u, _comment(f)),
           N_("Final report approved.")),
    Action("return_report", ChangesForm,
           lambda a, u, f: reporting.return_report(a, u, _comment(f)),
           N_("Final report returned to the applicant.")),
    Action("record_payment", PaymentForm, _pay, N_("Payment recorded."),
           allowed=_payment_offered, label=N_("Record payment")),
)}


def _fresh_form(action: Action, page: ApplicationPage):
    form = action.form(formdata=None, prefix=action.name)
    if action.name == "award":
        form.amount.data = page.application.requested_amount
    elif action.name == "record_payment":
        form.kind.data = payment_kind(page.application)
        # In another currency the amount transferred is typed; the hint gives the due.
        form.amount.data = page.due_now if page.application.currency == "EUR" else None
        form.paid_on.data = today()
        _in_currency(form, page.application, page.due_now)
    return form


def _in_currency(form: PaymentForm, application: Application, due) -> None:
    """The amount field names the voucher's currency, with what is due as a hint."""
    if application.currency != "EUR":
        form.amount.label.text = _("Amount transferred (%(currency)s)",
                                   currency=application.currency)
        form.amount.description = payments.due_hint(application, due)


def posted_form(application: Application, action: Action, **form_kwargs):
    """The action's form as posted (the API hands its JSON body in ``form_kwargs``); a
    payment posted without its kind gets the kind the voucher's state calls for (an
    advance before the report is approved)."""
    form_kwargs.setdefault("prefix", action.name)
    if action.name == "record_payment":
        form = action.form(kind=payment_kind(application), **form_kwargs)
        due = settlement.due(application)
        _in_currency(form, application, due[1] if due else None)
        return form
    return action.form(**form_kwargs)


def _download_url(attachment_id: int) -> str | None:
    """The attachment's download link, or None where the files area is not installed."""
    try:
        return url_for("files.download", attachment_id=attachment_id)
    except BuildError:
        return None


def _draw(application: Application, *, name: str | None = None, form=None,
          error: str | None = None, label: str | None = None):
    """The page; after a refused or invalid POST, that form (``name``) with ``error``.

    Besides the actions' forms: "assign", "exception-<rule>" for each failing rule
    that admits an exception (vouchers/manager/eligibility.py posts those), and the
    money's "reverse-<payment id>" and "record_recovery" (vouchers/manager/money.py).
    """
    page = application_page(application)
    forms = {a.name: _fresh_form(a, page) for a in ACTIONS.values()}
    forms["assign"] = AssignForm(formdata=None, prefix="assign")
    forms |= {exception_key(r.code): AcceptExceptionForm(formdata=None, prefix=prefix_of(r.code))
              for r in page.rules if r.blocks and r.overridable}
    forms |= money_forms(page.money)
    if name is not None:
        forms[name] = form
        label = label or (_(ACTIONS[name].label) if name in ACTIONS
                          else _("Assign an evaluator"))
        # The assignment form is one list, shown only while there is someone to choose.
        error = error or (form.evaluator.errors[0] if name == "assign"
                          else _("Correct the fields marked below."))
        flash(_("%(action)s: %(error)s", action=label, error=error), "error")
    # No evaluator preselected: an assignment is chosen, never the list's first by default.
    forms["assign"].evaluator.choices = [SelectChoice("", _("Choose an evaluator"))] + [
        SelectChoice(c.id, _("%(name)s (%(load)s in this call)", name=c.name, load=c.load))
        for c in page.evaluators]
    return render_template(
        "manager/application.html", page=page, application=application,
        cvt=application.call_voucher_type, actions=list(ACTIONS.values()), forms=forms,
        errors={name: error} if name else {},
        failed=ACTIONS.get(name) if name else None,
        attachment_links=[(a, _download_url(a.id)) for a in application.attachments],
    )


@route(bp, "/applications/<int:application_id>", permission=policy.can_manage,
       load={"application": by_id(Application)})
def application(application: Application):
    return _draw(application)


def _draw_action(*, form, error, application, action):
    return _draw(application, name=action.name, form=form, error=error)


@route(bp, "/applications/<int:application_id>/actions/<action>", methods=("POST",),
       permission=policy.can_manage,
       load={"application": by_id(Application), "action": by("action", ACTIONS.get)},
       form=posted_form, render=_draw_action)
def application_action(form, application: Application, action: Action):
    action.run(application, current_user, form)
    flash(_(action.done), "success")
    return see_other("manager.application", application_id=application.id)


@route(bp, "/applications/<int:application_id>/assignments", methods=("POST",),
       permission=policy.can_manage, load={"application": by_id(Application)},
       form=lambda application: AssignForm(prefix="assign"), endpoint="assign_evaluator",
       render=lambda form, error, application: _draw(application, name="assign", form=form,
                                                      error=error))
def assign_evaluator_view(form, application: Application):
    evaluator = assign_evaluator(application, form.evaluator.data, current_user)
    flash(_("%(name)s assigned.", name=evaluator.name), "success")
    return see_other("manager.application", "assignments-heading",
                     application_id=application.id)
