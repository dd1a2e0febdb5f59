"""The shapes of the applicant's API (vouchers/api/applicant.py), and the bodies it answers.

Input schemas only describe the body for the OpenAPI document and keep its shape (a
string where the page's form reads a string): every rule and its message is the pages'
form's (vouchers/applicant/forms.py) and the services', so amounts arrive as text and
are checked by the form's MoneyField, exactly as typed on the page.
"""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from workflows.lifecycle import STATE_LABELS

from .. import policy
from ..models import Application, Attachment, Organisation, Payment
from ..services.transitions import available_actions, completeness_problems
from .schemas import Money, PageLinksSchema

AMOUNT_TEXT = 'A decimal as text, as typed on the page: "1200.00".'

# --- what is sent ---------------------------------------------------------------------


class MeCostLineInSchema(Schema):
    description = fields.String(allow_none=True)
    amount = fields.String(allow_none=True, metadata={"description": AMOUNT_TEXT})


class MeApplicationFieldsSchema(Schema):
    """An application's content; on an update, a field left out stays as it is."""

    title = fields.String()
    summary = fields.String(allow_none=True)
    requested_amount = fields.String(allow_none=True, metadata={"description": AMOUNT_TEXT})
    provider_id = fields.Integer(allow_none=True, metadata={
        "description": "The service provider from the catalogue (validation vouchers)."})
    details = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                          metadata={"description": "The voucher type's own questions by "
                                                   "key; dates as YYYY-MM-DD."})
    cost_lines = fields.List(fields.Nested(MeCostLineInSchema), metadata={
        "description": "Every cost line: the list replaces the application's lines."})


class MeNewApplicationSchema(MeApplicationFieldsSchema):
    call_voucher_type_id = fields.Integer(required=True, metadata={
        "description": "The voucher type of an open call (GET /api/v1/calls)."})
    title = fields.String(required=True)


class MeSubmitSchema(Schema):
    publication_consent = fields.Boolean(load_default=False, metadata={
        "description": "Whether the programme may publish the operation (asked afresh at "
                       "every submission)."})


class MeReasonSchema(Schema):
    reason = fields.String(load_default="", allow_none=True)


class MeUploadSchema(Schema):
    """multipart/form-data: the file, what it is for and what document it is."""

    file = Upload(metadata={"description": "The file (required): PDF, PNG, JPEG or an "
                                           "office file."})
    purpose = fields.String(metadata={"description": '"application" (the default) or '
                                                     '"report" (the final report\'s '
                                                     'evidence).'})
    kind = fields.String(metadata={"description": "What the document is (required): one of "
                                                  "the attachment kinds, say quote or cv."})


# --- what is answered -----------------------------------------------------------------


class MeCompanySchema(Schema):
    id = fields.Integer(required=True)
    legal_name = fields.String(required=True)
    registry_number = fields.String(required=True)
    vat_number = fields.String(required=True, allow_none=True)
    country = fields.String(required=True)
    region = fields.String(required=True)
    size = fields.String(required=True)
    sector = fields.String(required=True)


class MeCallRefSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)


class MeCostLineSchema(Schema):
    description = fields.String(required=True)
    amount = Money(required=True)


class MeAttachmentSchema(Schema):
    id = fields.Integer(required=True)
    purpose = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    uploaded_at = fields.DateTime(required=True)


class MeApplicationSummarySchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    call = fields.Nested(MeCallRefSchema, required=True)
    call_voucher_type_id = fields.Integer(required=True)
    voucher_type = fields.String(required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)
    title = fields.String(required=True)
    currency = fields.String(required=True)
    requested_amount = Money(required=True)
    awarded_amount = Money(required=True, allow_none=True)
    paid_amount = Money(required=True)
    created_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(required=True, allow_none=True)


class MeApplicationSchema(MeApplicationSummarySchema):
    summary = fields.String(required=True)
    provider_id = fields.Integer(required=True, allow_none=True)
    details = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                          required=True)
    cost_lines = fields.List(fields.Nested(MeCostLineSchema), required=True)
    total_costs = Money(required=True)
    attachments = fields.List(fields.Nested(MeAttachmentSchema), required=True)
    editable = fields.Boolean(required=True)
    problems = fields.List(fields.String(), required=True, metadata={
        "description": "What must still be filled in before it can be submitted."})
    fails_rules = fields.Boolean(required=True)
    actions = fields.List(fields.String(), required=True, metadata={
        "description": "The lifecycle triggers open to you now (submit, withdraw, ...)."})


class MeApplicationPageSchema(Schema):
    items = fields.List(fields.Nested(MeApplicationSummarySchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    links = fields.Nested(PageLinksSchema, required=True)


class MeVoucherRefSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    title = fields.String(required=True)


class MePaymentSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"description": '"advance" or "payment".'})
    amount = Money(required=True, metadata={"description": "In euros."})
    currency = fields.String(required=True)
    amount_in_currency = Money(required=True, allow_none=True, metadata={
        "description": "What was transferred in the partner's currency, when not euros."})
    paid_on = fields.Date(required=True)
    reference = fields.String(required=True)
    reversed = fields.Boolean(required=True, metadata={
        "description": "Booked back since (a reversal in the voucher's ledger)."})
    voucher = fields.Nested(MeVoucherRefSchema, required=True)


class MePaymentPageSchema(Schema):
    items = fields.List(fields.Nested(MePaymentSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    links = fields.Nested(PageLinksSchema, required=True)


# --- the bodies -----------------------------------------------------------------------


def company_body(organisation: Organisation) -> dict:
    return {name: getattr(organisation, name) for name in MeCompanySchema().fields}


def summary_body(application: Application) -> dict:
    call = application.call
    return {
        "id": application.id, "reference": application.reference,
        "call": {"id": call.id, "code": call.code, "title": call.title},
        "call_voucher_type_id": application.call_voucher_type_id,
        "voucher_type": application.voucher_type, "state": application.state,
        "state_label": STATE_LABELS[application.state], "title": application.title,
        "currency": application.currency, "requested_amount": application.requested_amount,
        "awarded_amount": application.awarded_amount, "paid_amount": application.paid_amount,
        "created_at": application.created_at, "submitted_at": application.submitted_at,
    }


def attachment_body(attachment: Attachment) -> dict:
    return {"id": attachment.id, "purpose": attachment.purpose, "kind": attachment.kind,
            "name": attachment.original_name, "content_type": attachment.content_type,
            "size": attachment.size, "uploaded_at": attachment.uploaded_at}


def application_body(application: Application, user) -> dict:
    """The application as its page shows it to ``user``, its owner."""
    editable = policy.can_edit_application(user, application)
    files = sorted(application.attachments, key=lambda a: (a.uploaded_at, a.id))
    return {
        **summary_body(application),
        "summary": application.summary or "", "provider_id": application.provider_id,
        "details": {key: "" if value is None else str(value)
                    for key, value in (application.details or {}).items()},
        "cost_lines": [{"description": line.description, "amount": line.amount}
                       for line in application.cost_lines],
        "total_costs": application.total_costs,
        "attachments": [attachment_body(a) for a in files],
        "editable": editable,
        "problems": completeness_problems(application) if editable else [],
        "fails_rules": application.fails_rules,
        "actions": [t.trigger for t in available_actions(application, user)],
    }


def payment_body(payment: Payment, reversed_: bool) -> dict:
    voucher = payment.application
    return {"id": payment.id, "kind": payment.kind, "amount": payment.amount,
            "currency": payment.currency, "amount_in_currency": payment.amount_in_currency,
            "paid_on": payment.paid_on, "reference": payment.reference,
            "reversed": reversed_,
            "voucher": {"id": voucher.id, "reference": voucher.reference,
                        "title": voucher.title}}


def page_body(items: list, total: int, page: int, per_page: int, links: dict) -> dict:
    return {"items": items, "total": total, "page": page, "per_page": per_page,
            "links": links}
