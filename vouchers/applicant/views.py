"""The applicant's pages: company profile, applications, attachments, final report.

Every application is fetched through permissions.application_or_404, so another
company's application answers 404 whatever the route.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from workflows import lifecycle
from workflows.lifecycle import EDITABLE_STATES

from .. import policy
from ..extensions import db
from ..models import Application, Attachment, CallVoucherType
from ..models.base import utcnow
from ..navigation import nav_item
from ..services import attachments as files
from ..services import reporting, transitions
from ..services.applications import (
    active_providers,
    applications_of,
    can_edit,
    is_voucher,
    last_comment,
    payments_of,
    update_draft,
)
from ..services.calls import open_calls
from ..services.errors import DomainError
from ..services.organisations import save_profile
from .blueprint import bp
from .forms import FORMS, ApplicationForm, ProfileForm, ReasonForm, ReportForm, UploadForm


def application_or_404(application_id: int) -> Application:
    # Interim: replaced by the boundary's loader when this module moves onto route().
    application = db.session.get(Application, application_id)
    if application is None or not policy.can_view_application(current_user, application):
        abort(404)
    return application

nav_item("applicant", "My applications", "applicant.home", order=10)
nav_item("applicant", "Company profile", "applicant.profile", order=20)

# A refused action re-renders its page with the reason; 422 tells clients it failed.
REFUSED = 422


def _see_other(endpoint: str, **values):
    return redirect(url_for(endpoint, **values), code=303)


def _attachment_or_404(application: Application, attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.application_id != application.id:
        abort(404)
    return attachment


@bp.get("/")
def home():
    return render_template(
        "applicant/home.html",
        applications=applications_of(current_user),
        calls=open_calls(utcnow()),
        organisation=current_user.organisation,
    )


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    organisation = current_user.organisation
    form = ProfileForm(organisation=organisation)
    error = None
    if form.validate_on_submit():
        try:
            save_profile(
                current_user, legal_name=form.legal_name.data,
                registry_number=form.registry_number.data, country=form.country.data,
                region=form.region.data, size=form.size.data, sector=form.sector.data,
                de_minimis_declared=form.de_minimis_declared.data,
            )
        except DomainError as exc:
            error = str(exc)
        else:
            db.session.commit()
            flash("Company profile saved.", "success")
            return _see_other("applicant.home")
    status = REFUSED if request.method == "POST" else 200
    return render_template("applicant/profile.html", form=form, error=error,
                           organisation=organisation), status


# --- writing an application ----------------------------------------------------------


def _application_form(voucher_type: str, application: Application | None = None
                      ) -> ApplicationForm:
    form_class = FORMS[voucher_type]
    kwargs = {}
    if voucher_type in ("market_validation", "product_validation"):
        providers = active_providers()
        # A provider that left the catalogue stays selectable on the draft naming it, so
        # saving the draft does not silently drop it (submitting asks for another).
        if application is not None and application.provider and not application.provider.active:
            providers.append(application.provider)
        kwargs["providers"] = providers
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


def _render_form(form, cvt: CallVoucherType, application: Application | None, error=None,
                 status: int = 200):
    return render_template("applicant/application_form.html", form=form, cvt=cvt,
                           application=application, error=error), status


@bp.route("/new/<int:cvt_id>", methods=["GET", "POST"])
def new_application(cvt_id: int):
    cvt = db.get_or_404(CallVoucherType, cvt_id)
    if current_user.organisation_id is None:
        flash("Describe your company before you apply.", "info")
        return _see_other("applicant.profile")
    if not cvt.call.is_open(utcnow()):
        flash(f"{cvt.call.title} is not open for applications.", "error")
        return _see_other("applicant.home")
    form = _application_form(cvt.voucher_type)
    if request.method == "GET" or _rework(form):
        return _render_form(form, cvt, None)
    if not form.validate():
        return _render_form(form, cvt, None, status=REFUSED)
    try:
        application = transitions.create_draft(current_user, cvt, title=form.title.data)
        update_draft(application, current_user, form.service_fields(),
                     form.filled_cost_lines())
    except DomainError as exc:
        db.session.rollback()  # the draft create_draft made must not stay half-filled
        return _render_form(form, cvt, None, error=str(exc), status=REFUSED)
    db.session.commit()
    flash("Draft saved. Add quotes or CVs below, then submit when it is complete.", "success")
    return _see_other("applicant.application", application_id=application.id)


@bp.route("/applications/<int:application_id>/edit", methods=["GET", "POST"])
def edit(application_id: int):
    application = application_or_404(application_id)
    if not can_edit(application, current_user):
        flash(f"The application is {lifecycle.STATE_LABELS[application.state].lower()} and "
              "can no longer be changed.", "error")
        return _see_other("applicant.application", application_id=application.id)
    cvt = application.call_voucher_type
    form = _application_form(application.voucher_type, application)
    if request.method == "GET" or _rework(form):
        return _render_form(form, cvt, application)
    if not form.validate():
        return _render_form(form, cvt, application, status=REFUSED)
    try:
        update_draft(application, current_user, form.service_fields(),
                     form.filled_cost_lines())
    except DomainError as exc:
        return _render_form(form, cvt, application, error=str(exc), status=REFUSED)
    db.session.commit()
    flash("Draft saved.", "success")
    return _see_other("applicant.application", application_id=application.id)


# --- the application page and its actions --------------------------------------------


def _render_application(application: Application, *, errors: dict | None = None,
                        status: int = 200):
    editable = application.state in EDITABLE_STATES
    voucher = is_voucher(application)
    return render_template(
        "applicant/application.html",
        application=application,
        actions={t.trigger for t in transitions.available_actions(application, current_user)},
        problems=transitions.completeness_problems(application) if editable else [],
        editable=can_edit(application, current_user),
        attachments=files.attachments_of(application, "application"),
        can_upload=files.can_change(application, current_user, "application"),
        upload_form=UploadForm(purpose="application", formdata=None),
        report=reporting.final_report_of(application) if voucher else None,
        payments=payments_of(application) if voucher else [],
        payable=reporting.payable_amount(application) if voucher else None,
        returned_comment=(last_comment(application, lifecycle.RETURNED)
                          if application.state == lifecycle.RETURNED else ""),
        errors=errors or {},
    ), status


@bp.get("/applications/<int:application_id>")
def application(application_id: int):
    return _render_application(application_or_404(application_id))


@bp.post("/applications/<int:application_id>/submit")
def submit(application_id: int):
    application = application_or_404(application_id)
    try:
        transitions.submit(application, current_user)
    except DomainError as exc:
        return _render_application(application, errors={"submit": str(exc)}, status=REFUSED)
    db.session.commit()
    flash("Application submitted. The programme will review it.", "success")
    return _see_other("applicant.application", application_id=application.id)


@bp.post("/applications/<int:application_id>/report/start")
def start_report(application_id: int):
    application = application_or_404(application_id)
    try:
        reporting.start_reporting(application, current_user)
    except DomainError as exc:
        return _render_application(application, errors={"start_reporting": str(exc)},
                                   status=REFUSED)
    db.session.commit()
    return _see_other("applicant.report", application_id=application.id)


def _confirm(application: Application, trigger: str, run, *, title: str, question: str,
             button: str, reason_label: str, done: str):
    """A confirmation page (works without JavaScript) for an action that cannot be undone."""
    form = ReasonForm()
    form.reason.label.text = reason_label
    form.confirm.label.text = button
    error = None
    if request.method == "GET" and trigger not in {
        t.trigger for t in transitions.available_actions(application, current_user)
    }:
        state = lifecycle.STATE_LABELS[application.state].lower()
        flash(f"This cannot be done now: the application is {state}.", "error")
        return _see_other("applicant.application", application_id=application.id)
    if form.validate_on_submit():
        try:
            run(application, current_user, form.reason.data or "")
        except DomainError as exc:
            error = str(exc)
        else:
            db.session.commit()
            flash(done, "success")
            return _see_other("applicant.application", application_id=application.id)
    status = REFUSED if request.method == "POST" else 200
    return render_template("applicant/confirm.html", application=application, form=form,
                           error=error, title=title, question=question), status


@bp.route("/applications/<int:application_id>/withdraw", methods=["GET", "POST"])
def withdraw(application_id: int):
    return _confirm(
        application_or_404(application_id), "withdraw", transitions.withdraw,
        title="Withdraw the application",
        question="Withdrawing ends this application for good: it cannot be submitted again.",
        button="Withdraw the application", reason_label="Reason (optional)",
        done="The application is withdrawn.",
    )


@bp.route("/applications/<int:application_id>/cancel", methods=["GET", "POST"])
def cancel(application_id: int):
    return _confirm(
        application_or_404(application_id), "cancel", transitions.cancel,
        title="Cancel the voucher",
        question="Cancelling gives the voucher up for good: its money returns to the "
                 "programme and cannot be paid to you any more.",
        button="Cancel the voucher", reason_label="Why do you give the voucher up?",
        done="The voucher is cancelled.",
    )


# --- attachments ----------------------------------------------------------------------


@bp.post("/applications/<int:application_id>/attachments")
def upload(application_id: int):
    application = application_or_404(application_id)
    form = UploadForm()
    purpose = form.purpose.data if form.purpose.data in files.PURPOSES else "application"
    error = None
    if form.validate_on_submit():
        try:
            attachment = files.add_attachment(application, current_user, form.file.data,
                                              purpose)
        except DomainError as exc:
            error = str(exc)
        else:
            db.session.commit()
            flash(f"{attachment.original_name} uploaded.", "success")
            return _after_files(application, purpose)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if purpose == "report" and reporting.final_report_of(application) is not None:
        return _render_report(application, upload_error=error, status=REFUSED)
    return _render_application(application, errors={"upload": error}, status=REFUSED)


@bp.post("/applications/<int:application_id>/attachments/<int:attachment_id>/delete")
def delete_attachment(application_id: int, attachment_id: int):
    application = application_or_404(application_id)
    attachment = _attachment_or_404(application, attachment_id)
    purpose, name = attachment.purpose, attachment.original_name
    try:
        files.delete_attachment(attachment, current_user)
    except DomainError as exc:
        flash(str(exc), "error")
        return _after_files(application, purpose)
    db.session.commit()
    flash(f"{name} removed.", "success")
    return _after_files(application, purpose)


def _after_files(application: Application, purpose: str):
    endpoint = "applicant.report" if purpose == "report" else "applicant.application"
    return _see_other(endpoint, application_id=application.id)


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(exc):
    """The request was larger than MAX_CONTENT_LENGTH: say so instead of a bare 413."""
    message = f"The file is larger than the limit of {files.describe_cap()}."
    application_id = (request.view_args or {}).get("application_id")
    if application_id is not None:
        flash(message, "error")
        return _see_other("applicant.application", application_id=application_id)
    return render_template("applicant/message.html", title="File too large",
                           message=message), 413


# --- the final report -----------------------------------------------------------------


def _render_report(application: Application, *, form: ReportForm | None = None,
                   error: str | None = None, upload_error: str | None = None,
                   status: int = 200):
    report = reporting.final_report_of(application)
    if form is None:
        form = ReportForm(obj=report, formdata=None)
    return render_template(
        "applicant/report.html",
        application=application, report=report, form=form, error=error,
        editable=application.state == lifecycle.REPORTING and policy.is_owner(current_user,
                                                                           application),
        evidence=files.attachments_of(application, "report"),
        can_upload=files.can_change(application, current_user, "report"),
        upload_form=UploadForm(purpose="report", formdata=None), upload_error=upload_error,
        payments=payments_of(application), payable=reporting.payable_amount(application),
    ), status


@bp.route("/applications/<int:application_id>/report", methods=["GET", "POST"])
def report(application_id: int):
    application = application_or_404(application_id)
    if reporting.final_report_of(application) is None:
        flash("The final report has not been started.", "info")
        return _see_other("applicant.application", application_id=application.id)
    if request.method == "GET":
        return _render_report(application)
    form = ReportForm()
    if not form.validate():
        return _render_report(application, form=form, status=REFUSED)
    costs = form.actual_costs.data
    try:
        reporting.save_final_report(application, current_user, summary=form.summary.data or "",
                              actual_costs="" if costs is None else str(costs))
        if form.submit_report.data:
            reporting.submit_final_report(application, current_user)
    except DomainError as exc:
        # A refused submit keeps nothing, not even the save: the text stays in the form.
        db.session.rollback()
        return _render_report(application, form=form, error=str(exc), status=REFUSED)
    db.session.commit()
    if form.submit_report.data:
        flash("Final report submitted. The programme will check it before paying.", "success")
        return _see_other("applicant.application", application_id=application.id)
    flash("Report saved.", "success")
    return _see_other("applicant.report", application_id=application.id)
