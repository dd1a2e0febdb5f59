"""The applicant's API under /api/v1/me: my company, my applications, my payments.

The twin of the applicant's pages (vouchers/applicant/views.py): the same permissions,
the same forms filled from the JSON body (api/boundary.json_form) and the same services,
so a refusal reads as it does on the page. The pages' blueprint needs policy.can_apply
and an application's page policy.can_view_application; for an applicant the two together
are policy.is_owner, which each application's route here declares, so the declared
predicate says all of who passes (another company's application, or a manager: 404).
"""

from __future__ import annotations

from math import ceil

from flask import request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import policy
from .. import voucher_types as types
from ..applicant.forms import FORMS, ApplicationForm, ReasonForm, SubmitForm, UploadForm
from ..boundary import by_id
from ..errors import carries_file
from ..extensions import db
from ..models import Application, CallVoucherType
from ..models.base import MAX_ID
from ..services import applications as apps
from ..services import attachments as files
from ..services import payments, transitions
from .applicant_schemas import (
    MeApplicationFieldsSchema,
    MeApplicationPageSchema,
    MeApplicationSchema,
    MeAttachmentSchema,
    MeCompanySchema,
    MeNewApplicationSchema,
    MePaymentPageSchema,
    MeReasonSchema,
    MeSubmitSchema,
    MeUploadSchema,
    application_body,
    attachment_body,
    company_body,
    page_body,
    payment_body,
    summary_body,
)
from .boundary import api_route, json_form
from .identity import api_blueprint
from .problems import fail, from_exception, problem
from .schemas import PageQuerySchema, page_links

bp = api_blueprint("applicant", __name__, "/me",
                   "The signed-in applicant's company, applications and payments.")
BLUEPRINTS = [bp]

APPLICATION = {"application": by_id(Application)}
NO_COMPANY = "Describe your company before you apply."
LOCATION = {"Location": {"description": "The new application's URL.",
                         "schema": {"type": "string"}}}


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    """A body larger than the server reads at once: for a file, the page's words."""
    if carries_file():
        return problem(413, f"The file is larger than the limit of {files.describe_cap()}.")
    return from_exception(exc)


def _pages(total: int, per_page: int) -> int:
    return max(1, ceil(total / per_page))


# --- my company -----------------------------------------------------------------------


@api_route(bp, "/company", permission=policy.can_apply)
@bp.response(200, MeCompanySchema)
def company():
    """The company of the signed-in applicant (404 until its profile is saved)."""
    if current_user.organisation is None:
        fail(404, NO_COMPANY)
    return company_body(current_user.organisation)


# --- my applications ------------------------------------------------------------------


@api_route(bp, "/applications", permission=policy.can_apply)
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, MeApplicationPageSchema)
def applications(query):
    """My company's applications, newest first, a page at a time."""
    page, per_page = query["page"], query["per_page"]
    # The home page's own list: an SME holds a handful of applications.
    everything = apps.applications_of(current_user)
    shown = everything[(page - 1) * per_page:page * per_page]
    links = page_links("api_applicant.applications", page, _pages(len(everything), per_page),
                       per_page=per_page)
    return page_body([summary_body(a) for a in shown], len(everything), page, per_page,
                     links)


@api_route(bp, "/applications/<int:application_id>", permission=policy.is_owner,
           load=APPLICATION)
@bp.etag
@bp.response(200, MeApplicationSchema)
def application(application: Application):
    """One of my applications with its cost lines, attachments and what it still needs."""
    return application_body(application, current_user)


def _form_factory(voucher_type: str, application: Application | None = None):
    """The page's form of the voucher type, offering the providers the page offers."""
    form_class = FORMS[voucher_type]

    def make(**kwargs) -> ApplicationForm:
        if form_class.needs_provider:
            kwargs["providers"] = apps.providers_for(application)
        return form_class(**kwargs)

    return make


def _form_fields(body: dict, voucher_type: str, base: dict | None = None) -> dict:
    """The JSON body as the page's form fields: the voucher type's own questions are
    fields of the form; ``base`` (the application as it is) fills what is left out."""
    fields = dict(base or {})
    body = dict(body)
    details = body.pop("details", None) or {}
    unknown = set(details) - set(types.get(voucher_type).detail_keys)
    if unknown:
        fail(422, "Correct the fields named in errors.", errors={"details": [
            f"A {voucher_type} application has no field {', '.join(sorted(unknown))}."]})
    fields.update(body)
    fields.update(details)
    return fields


def _call_voucher_type(value: int) -> CallVoucherType:
    cvt = db.session.get(CallVoucherType, value) if 0 < value <= MAX_ID else None
    if cvt is None:
        fail(422, "Correct the fields named in errors.", errors={"call_voucher_type_id": [
            "There is no such voucher type of a call: see GET /api/v1/calls."]})
    return cvt


def _location(application: Application) -> dict:
    return {"Location": url_for("api_applicant.application", application_id=application.id)}


@api_route(bp, "/applications", permission=policy.can_apply, methods=("POST",))
@bp.arguments(MeNewApplicationSchema)
@bp.response(201, MeApplicationSchema, headers=LOCATION)
def create_application(body):
    """Start a draft for a voucher type of an open call, with its first content."""
    body = dict(body)
    cvt = _call_voucher_type(body.pop("call_voucher_type_id"))
    form = json_form(_form_factory(cvt.voucher_type),
                     _form_fields(body, cvt.voucher_type))
    draft = apps.start_application(current_user, cvt, form.service_fields(),
                                   form.filled_cost_lines())
    return application_body(draft, current_user), _location(draft)


@api_route(bp, "/applications/<int:application_id>", permission=policy.is_owner,
           load=APPLICATION, methods=("PATCH",))
@bp.arguments(MeApplicationFieldsSchema)
@bp.response(200, MeApplicationSchema)
def update_application(body, application: Application):
    """Change a draft (or an application returned for changes); what is left out stays.
    ``cost_lines``, when given, replaces every cost line."""
    voucher_type = application.voucher_type
    as_it_is = FORMS[voucher_type].data_of(application)
    form = json_form(_form_factory(voucher_type, application),
                     _form_fields(body, voucher_type, as_it_is))
    apps.update_draft(application, current_user, form.service_fields(),
                      form.filled_cost_lines())
    return application_body(application, current_user)


# --- its actions ----------------------------------------------------------------------


@api_route(bp, "/applications/<int:application_id>/submit", methods=("POST",),
           permission=policy.is_owner, load=APPLICATION)
@bp.arguments(MeSubmitSchema, required=False)
@bp.response(200, MeApplicationSchema)
def submit(body, application: Application):
    """Submit a complete draft; the programme then reviews it."""
    form = json_form(SubmitForm, body)
    transitions.submit(application, current_user,
                       publication_consent=form.publication_consent.data)
    return application_body(application, current_user)


@api_route(bp, "/applications/<int:application_id>/withdraw", methods=("POST",),
           permission=policy.is_owner, load=APPLICATION)
@bp.arguments(MeReasonSchema, required=False)
@bp.response(200, MeApplicationSchema)
def withdraw(body, application: Application):
    """Withdraw the application for good: it cannot be submitted again."""
    form = json_form(ReasonForm, body)
    transitions.withdraw(application, current_user, form.reason.data or "")
    return application_body(application, current_user)


@api_route(bp, "/applications/<int:application_id>/attachments", methods=("POST",),
           permission=policy.is_owner, load=APPLICATION)
@bp.arguments(MeUploadSchema, location="files")
@bp.alt_response(413, response="PROBLEM_413")
@bp.response(201, MeAttachmentSchema)
def upload(parts, application: Application):
    """Attach a file (multipart/form-data), checked as on the page: its size, and its
    kind by its extension and its first bytes."""
    # The page's upload form reads the text parts too (webargs' "files" gives the file).
    form = json_form(UploadForm, {"purpose": request.form.get("purpose", "application"),
                                  "kind": request.form.get("kind"),
                                  "file": parts.get("file")})
    attachment = files.add_attachment(application, current_user, form.file.data,
                                      form.purpose.data, form.kind.data)
    return attachment_body(attachment)


# --- my payments ----------------------------------------------------------------------


@api_route(bp, "/payments", permission=policy.can_apply)
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, MePaymentPageSchema)
def my_payments(query):
    """The payments made to my company's vouchers, newest first, a page at a time."""
    page, per_page = query["page"], query["per_page"]
    if current_user.organisation_id is None:
        rows, total = [], 0
    else:
        rows, total = payments.payments_to(current_user.organisation_id, page=page,
                                           per_page=per_page)
    links = page_links("api_applicant.my_payments", page, _pages(total, per_page),
                       per_page=per_page)
    return page_body([payment_body(p, r) for p, r in rows], total, page, per_page, links)
