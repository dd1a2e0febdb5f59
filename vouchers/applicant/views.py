"""The applicant's pages: company profile, applications, attachments, final report.

Every route goes through the request boundary (vouchers/boundary.py): it loads the
application and asks policy.can_view_application, so another company's application
answers 404 whatever the route; the blueprint itself needs policy.can_apply.
"""

from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from workflows import lifecycle

from .. import policy
from ..boundary import back_to, by_id, route, see_other
from ..errors import carries_file, too_large_page
from ..i18n import current_language
from ..models import Application, Attachment, CallVoucherType
from ..models.base import utcnow
from ..navigation import nav_item
from ..services import applications as apps
from ..services import attachments as files
from ..services import call_rules, reporting, transitions
from ..services.calls import open_calls
from .blueprint import bp
from .forms import (
    FORMS,
    ApplicationForm,
    ReasonForm,
    ReportForm,
    SubmitForm,
    UploadForm,
    report_form,
)

nav_item("applicant", lazy_gettext("My applications"), "applicant.home", order=10)
nav_item("applicant", lazy_gettext("Company profile"), "applicant.profile", order=20)

APPLICATION = {"application": by_id(Application)}


def _state(application: Application) -> str:
    """The state's label inside a sentence: lower case in English ("is submitted"), as
    the label is elsewhere (the translations quote it)."""
    label = _(lifecycle.STATE_LABELS[application.state])
    return label.lower() if current_language() == "en" else label


@route(bp, "/", permission=policy.can_apply)
def home():
    calls = open_calls(utcnow())
    return render_template("applicant/home.html", applications=apps.applications_of(current_user),
                           calls=calls, organisation=current_user.organisation,
                           call_rules={c.id: call_rules.describe(c) for c in calls})


# The company profile and its de minimis declarations: vouchers/applicant/profile.py.


# --- writing an application -----------------------------------------------------------


def _application_form(voucher_type: str, application: Application | None = None
                      ) -> ApplicationForm:
    form_class = FORMS[voucher_type]
    kwargs = {}
    if form_class.needs_provider:
        kwargs["providers"] = apps.providers_for(application)
    if application is not None and request.method == "GET":
        kwargs["data"] = form_class.data_of(application)
    return form_class(**kwargs)


def _rework(form: ApplicationForm) -> bool:
    """Handle "Add a cost line" and "Remove": re-render the form, save nothing."""
    pressed = form.button_pressed()
    if pressed is None:
        return False
    action, index = pressed
    if action == "add":
        form.add_cost_line()
    else:
        form.remove_cost_line(index)
    return True


def _render_form(form, error=None, *, cvt: CallVoucherType | None = None,
                 application: Application | None = None):
    return render_template("applicant/application_form.html", form=form, error=error,
                           cvt=cvt or application.call_voucher_type, application=application)


def _may_start(cvt: CallVoucherType):
    if current_user.organisation_id is None:
        return back_to("applicant.profile", _("Describe your company before you apply."),
                       "info")
    if not cvt.call.is_open(utcnow()):
        return back_to("applicant.home", _("%(call)s is not open for applications.",
                                           call=cvt.call.title))
    return None


@route(bp, "/new/<int:cvt_id>", permission=policy.can_apply,
       load={"cvt": by_id(CallVoucherType)}, before=_may_start,
       form=lambda cvt: _application_form(cvt.voucher_type), render=_render_form,
       rework=_rework)
def new_application(form: ApplicationForm, cvt: CallVoucherType):
    application = apps.start_application(current_user, cvt, form.service_fields(),
                                         form.filled_cost_lines())
    flash(_("Draft saved. Add quotes or CVs below, then submit when it is complete."),
          "success")
    return see_other("applicant.application", application_id=application.id)


def _may_edit(application: Application):
    if policy.can_edit_application(current_user, application):
        return None
    return back_to("applicant.application",
                   _("The application is %(state)s and can no longer be changed.",
                     state=_state(application)), application_id=application.id)


@route(bp, "/applications/<int:application_id>/edit", permission=policy.can_view_application,
       load=APPLICATION, before=_may_edit, render=_render_form, rework=_rework,
       form=lambda application: _application_form(application.voucher_type, application))
def edit(form: ApplicationForm, application: Application):
    apps.update_draft(application, current_user, form.service_fields(),
                      form.filled_cost_lines())
    flash(_("Draft saved.") if application.state == lifecycle.DRAFT
          else _("Application saved."), "success")
    return see_other("applicant.application", application_id=application.id)


# --- the application page and its actions ---------------------------------------------


def _render_application(application: Application, errors: dict | None = None,
                        submit_form: SubmitForm | None = None):
    if submit_form is None:
        submit_form = SubmitForm(formdata=None)  # unticked: consent is asked afresh
    return render_template("applicant/application.html", application=application,
                           submit_form=submit_form,
                           upload_form=UploadForm(
                               purpose="application", formdata=None,
                               required=application.call_voucher_type.required_attachments),
                           errors=errors or {}, **apps.application_page(application,
                                                                        current_user))


def _refused_next_to(action: str):
    """Draws the application page with a refusal next to ``action``'s button."""
    return lambda error=None, application=None: _render_application(application,
                                                                     {action: error})


@route(bp, "/applications/<int:application_id>", permission=policy.can_view_application,
       load=APPLICATION)
def application(application: Application):
    return _render_application(application)


def _refused_submit(error=None, application=None, form=None):
    """The application page with the refusal, the consent box as the applicant left it."""
    return _render_application(application, {"submit": error}, submit_form=form)


@route(bp, "/applications/<int:application_id>/submit", methods=("POST",),
       permission=policy.can_view_application, load=APPLICATION, form=SubmitForm,
       render=_refused_submit)
def submit(form: SubmitForm, application: Application):
    transitions.submit(application, current_user,
                       publication_consent=form.publication_consent.data)
    flash(_("Application submitted. The programme will review it."), "success")
    if application.fails_rules:
        flash(_("It fails one of the call's rules: it can be funded only if the programme "
                "accepts an exception to it (the legal ceilings admit none)."), "info")
    return see_other("applicant.application", application_id=application.id)


@route(bp, "/applications/<int:application_id>/report/start", methods=("POST",),
       permission=policy.can_view_application, load=APPLICATION,
       render=_refused_next_to("start_reporting"))
def start_report(application: Application):
    reporting.start_reporting(application, current_user)
    return see_other("applicant.report", application_id=application.id)


# Confirmation pages (they work without JavaScript) for what cannot be undone.
CONFIRMATIONS = {
    "withdraw": dict(
        title=lazy_gettext("Withdraw the application"),
        button=lazy_gettext("Withdraw the application"),
        question=lazy_gettext("Withdrawing ends this application for good: it cannot be "
                              "submitted again."),
        reason_label=lazy_gettext("Reason (optional)"),
        done=lazy_gettext("The application is withdrawn.")),
    "cancel": dict(
        title=lazy_gettext("Cancel the voucher"), button=lazy_gettext("Cancel the voucher"),
        question=lazy_gettext("Cancelling gives the voucher up for good: its money returns "
                              "to the programme and cannot be paid to you any more."),
        reason_label=lazy_gettext("Why do you give the voucher up?"),
        done=lazy_gettext("The voucher is cancelled.")),
}


def _confirmation(trigger: str) -> dict:
    text = CONFIRMATIONS[trigger]

    def form(application: Application) -> ReasonForm:
        bound = ReasonForm()
        bound.reason.label.text = text["reason_label"]
        bound.confirm.label.text = text["button"]
        return bound

    def before(application: Application):
        # The page is offered only when the action is; a POST gets the refusal itself.
        if request.method == "GET" and not policy.can_fire(current_user, application, trigger):
            return back_to("applicant.application",
                           _("This cannot be done now: the application is %(state)s.",
                             state=_state(application)),
                           application_id=application.id)
        return None

    def render(form: ReasonForm, error=None, application=None):
        return render_template("applicant/confirm.html", application=application, form=form,
                               error=error, title=text["title"], question=text["question"])

    return {"form": form, "before": before, "render": render,
            "permission": policy.can_view_application, "load": APPLICATION}


@route(bp, "/applications/<int:application_id>/withdraw", **_confirmation("withdraw"))
def withdraw(form: ReasonForm, application: Application):
    transitions.withdraw(application, current_user, form.reason.data or "")
    flash(str(CONFIRMATIONS["withdraw"]["done"]), "success")
    return see_other("applicant.application", application_id=application.id)


@route(bp, "/applications/<int:application_id>/cancel", **_confirmation("cancel"))
def cancel(form: ReasonForm, application: Application):
    transitions.cancel(application, current_user, form.reason.data or "")
    flash(str(CONFIRMATIONS["cancel"]["done"]), "success")
    return see_other("applicant.application", application_id=application.id)


# --- attachments ----------------------------------------------------------------------


def _purpose(form: UploadForm) -> str:
    return form.purpose.data if form.purpose.data in files.PURPOSES else "application"


def _files_page(purpose: str) -> str:
    return "applicant.report" if purpose == "report" else "applicant.application"


def _render_upload(form: UploadForm, error=None, application=None):
    error = error or " ".join(str(e) for errors in form.errors.values() for e in errors)
    if _purpose(form) == "report" and reporting.final_report_of(application) is not None:
        return _render_report(application=application, upload_error=error)
    return _render_application(application, {"upload": error})


@route(bp, "/applications/<int:application_id>/attachments", methods=("POST",),
       permission=policy.can_view_application, load=APPLICATION, form=UploadForm,
       render=_render_upload)
def upload(form: UploadForm, application: Application):
    attachment = files.add_attachment(application, current_user, form.file.data,
                                      _purpose(form), form.kind.data)
    flash(_("%(name)s uploaded.", name=attachment.original_name), "success")
    return see_other(_files_page(attachment.purpose), application_id=application.id)


def _refused_removal(error=None, application=None, attachment=None):
    return back_to(_files_page(attachment.purpose), error, application_id=application.id)


@route(bp, "/applications/<int:application_id>/attachments/<int:attachment_id>/delete",
       methods=("POST",), permission=policy.can_view_application, render=_refused_removal,
       load={**APPLICATION, "attachment": by_id(Attachment, belongs_to="application")})
def delete_attachment(application: Application, attachment: Attachment):
    purpose, name = attachment.purpose, attachment.original_name
    files.delete_attachment(attachment, current_user)
    flash(_("%(name)s removed.", name=name), "success")
    return see_other(_files_page(purpose), application_id=application.id)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(exc):
    """Larger than the server accepts at once: a file goes back to its page with the
    reason; a form of text gets the page saying the form was too large."""
    application_id = (request.view_args or {}).get("application_id")
    if carries_file() and application_id is not None:
        flash(_("The file is larger than the limit of %(cap)s.", cap=files.describe_cap()),
              "error")
        return see_other("applicant.application", application_id=application_id)
    return too_large_page()


# --- the final report -----------------------------------------------------------------


def _render_report(form: ReportForm | None = None, error: str | None = None,
                   upload_error: str | None = None, application: Application | None = None):
    page = apps.report_page(application)
    form = report_form(application, page["report"], form)
    return render_template("applicant/report.html", application=application, form=form,
                           error=error, upload_error=upload_error,
                           upload_form=UploadForm(purpose="report", formdata=None), **page)


def _report_started(application: Application):
    if reporting.final_report_of(application) is not None:
        return None
    return back_to("applicant.application", _("The final report has not been started."),
                   "info", application_id=application.id)


@route(bp, "/applications/<int:application_id>/report", permission=policy.can_view_application,
       load=APPLICATION, before=_report_started, render=_render_report,
       form=lambda application: ReportForm(obj=reporting.final_report_of(application)))
def report(form: ReportForm, application: Application):
    submitting = bool(form.submit_report.data)
    apps.write_final_report(application, current_user, summary=form.summary.data,
                            actual_costs=form.actual_costs.data, submit=submitting)
    if submitting:
        flash(_("Final report submitted. The programme will check it before paying."),
              "success")
        return see_other("applicant.application", application_id=application.id)
    flash(_("Report saved."), "success")
    return see_other("applicant.report", application_id=application.id)
