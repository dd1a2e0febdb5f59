"""Shapes of the manager's read API (vouchers/api/manager.py), and what fills them.

The serializers only gather what the pages' services already computed (the table's
rows, the application page, the voucher's money, the call's figures): no figure is
worked out here. Money is a decimal string (schemas.Money).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema, fields

from workflows.lifecycle import STATE_LABELS

from .. import voucher_types
from ..services.application_page import ApplicationPage
from ..services.call_figures import TypeFigures
from ..services.listing import TablePage
from ..services.payment_batches import Due
from .boundary import json_form
from .problems import Problem, fail
from .schemas import DecimalString, Money, PageLinksSchema, PageQuerySchema

# --- input --------------------------------------------------------------------------------


def json_form_as(form: Callable[..., Any], body: Mapping[str, Any],
                 api_name: Callable[[str], str], **objects) -> Any:
    """``json_form`` for a body already put in the form's field names; a 422 names each
    field as the API does (``api_name(form field)``), so a client finds its own field."""
    try:
        return json_form(form, body, **objects)
    except Problem as exc:
        document = json.loads(exc.response.get_data())
        errors = {api_name(name): messages
                  for name, messages in (document.get("errors") or {}).items()}
        fail(exc.code, document["detail"], errors=errors or None)


# The applications table's query parameters -> the page's filter form's fields.
TABLE_FIELDS = {"call_id": "call", "voucher_type": "type", "direction": "dir"}
TABLE_PARAMETERS = {form: api for api, form in TABLE_FIELDS.items()}


class ManageApplicationsQuerySchema(Schema):
    """Shapes only: the page's filter form (ApplicationFilterForm) says what is allowed,
    with its messages."""

    call_id = fields.Integer(required=True, metadata={"description": "The call's id."})
    voucher_type = fields.String(metadata={"description": "travel, market_validation, ..."})
    state = fields.String(metadata={"description": "A state of a submitted application."})
    country = fields.String(metadata={"description": "An applicant's country (ISO code)."})
    needs = fields.String(metadata={"description": "What the manager has to act on."})
    q = fields.String(metadata={"description": "Reference, title or company name."})
    sort = fields.String(metadata={"description": "date (default) or score."})
    direction = fields.String(metadata={"description": "desc (default) or asc."})
    page = fields.Integer()
    per_page = fields.Integer(metadata={"description": "10, 25 (default), 50 or 100."})


class ManagePaymentsQuerySchema(PageQuerySchema):
    call_id = fields.Integer(required=True, metadata={"description": "The call's id."})


# --- the applications table ----------------------------------------------------------------


class ManageTableRowSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    call_id = fields.Integer(required=True)
    voucher_type = fields.String(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)
    requested_amount = Money(required=True)
    weighted_score = DecimalString(required=True, allow_none=True)
    review_count = fields.Integer(required=True)
    submitted_at = fields.DateTime(required=True)
    report_due_on = fields.Date(required=True, allow_none=True)
    company = fields.String(required=True)
    country = fields.String(required=True)
    overdue = fields.List(fields.String(), required=True,
                          metadata={"description": "What is overdue: review, report."})


class ManageTablePageSchema(Schema):
    items = fields.List(fields.Nested(ManageTableRowSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    links = fields.Nested(PageLinksSchema, required=True)


def table_page(page: TablePage, links: dict) -> dict:
    return {"items": [{
        "id": r.id, "reference": r.reference, "call_id": r.call_id,
        "voucher_type": r.voucher_type, "title": r.title, "state": r.state,
        "state_label": STATE_LABELS[r.state], "requested_amount": r.requested_amount,
        "weighted_score": r.weighted_score, "review_count": r.review_count,
        "submitted_at": r.submitted_at, "report_due_on": r.report_due_on,
        "company": r.legal_name, "country": r.country,
        "overdue": list(page.overdue.get(r.id, ())),
    } for r in page.items], "total": page.total, "page": page.page,
        "per_page": page.per_page, "links": links}


# --- one application -----------------------------------------------------------------------


class ManageCompanySchema(Schema):
    id = fields.Integer(required=True)
    legal_name = fields.String(required=True)
    country = fields.String(required=True)
    region = fields.String(required=True)


class ManageCallRefSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.String(required=True)


class ManageCostLineSchema(Schema):
    description = fields.String(required=True)
    amount = Money(required=True)


class ManageScoreSchema(Schema):
    criterion_id = fields.Integer(required=True)
    criterion = fields.String(required=True)
    score = fields.Integer(required=True, allow_none=True,
                           metadata={"description": "None: not applicable."})


class ManageReviewSchema(Schema):
    id = fields.Integer(required=True)
    evaluator_id = fields.Integer(required=True)
    evaluator = fields.String(required=True)
    version = fields.Integer(required=True)
    counts = fields.Boolean(required=True,
                            metadata={"description": "Whether it judged the current version."})
    recommendation = fields.String(required=True)
    comment = fields.String(required=True)
    weighted_score = DecimalString(required=True, allow_none=True)
    submitted_at = fields.DateTime(required=True)
    scores = fields.List(fields.Nested(ManageScoreSchema), required=True)


class ManageAuditRecordSchema(Schema):
    from_state = fields.String(required=True, allow_none=True)
    to_state = fields.String(required=True)
    trigger = fields.String(required=True)
    actor_id = fields.Integer(required=True, allow_none=True)
    actor = fields.String(required=True, allow_none=True)
    at = fields.DateTime(required=True)
    comment = fields.String(required=True)
    amount = Money(required=True, allow_none=True)


class ManageFigureSchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    amount = Money(required=True)
    hint = fields.String(required=True)


class ManageDueSchema(Schema):
    kind = fields.String(required=True)
    amount = Money(required=True)


class ManagePaymentSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    amount = Money(required=True)
    currency = fields.String(required=True)
    amount_in_currency = Money(required=True, allow_none=True)
    paid_on = fields.Date(required=True)
    reference = fields.String(required=True)
    reversed = fields.Boolean(required=True)


class ManageMoneySchema(Schema):
    figures = fields.List(fields.Nested(ManageFigureSchema), required=True)
    due = fields.Nested(ManageDueSchema, required=True, allow_none=True)
    in_open_batch = fields.Boolean(required=True)
    payments = fields.List(fields.Nested(ManagePaymentSchema), required=True)


class ManageApplicationDetailSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    call = fields.Nested(ManageCallRefSchema, required=True)
    voucher_type = fields.String(required=True)
    voucher_type_label = fields.String(required=True)
    title = fields.String(required=True)
    summary = fields.String(required=True)
    details = fields.Dict(keys=fields.String(), required=True)
    state = fields.String(required=True)
    state_label = fields.String(required=True)
    company = fields.Nested(ManageCompanySchema, required=True)
    provider = fields.String(required=True, allow_none=True)
    currency = fields.String(required=True)
    requested_amount = Money(required=True)
    awarded_amount = Money(required=True, allow_none=True)
    paid_amount = Money(required=True)
    total_costs = Money(required=True)
    cost_lines = fields.List(fields.Nested(ManageCostLineSchema), required=True)
    weighted_score = DecimalString(required=True, allow_none=True)
    consensus_score = DecimalString(required=True, allow_none=True)
    review_count = fields.Integer(required=True)
    submission_number = fields.Integer(required=True)
    submitted_at = fields.DateTime(required=True, allow_none=True)
    decided_at = fields.DateTime(required=True, allow_none=True)
    report_due_on = fields.Date(required=True, allow_none=True)
    reviews = fields.List(fields.Nested(ManageReviewSchema), required=True)
    audit_trail = fields.List(fields.Nested(ManageAuditRecordSchema), required=True)
    money = fields.Nested(ManageMoneySchema, required=True)


def _review(review, page: ApplicationPage) -> dict:
    names = {c.id: c.name for c in page.application.call_voucher_type.criteria}
    return {"id": review.id, "evaluator_id": review.evaluator_id,
            "evaluator": review.evaluator.name, "version": review.version,
            "counts": review.version == page.application.submission_number,
            "recommendation": review.recommendation, "comment": review.comment,
            "weighted_score": review.weighted_score, "submitted_at": review.submitted_at,
            "scores": [{"criterion_id": s.criterion_id, "criterion": names.get(s.criterion_id, ""),
                        "score": s.score} for s in review.scores]}


def _record(record) -> dict:
    return {"from_state": record.from_state, "to_state": record.to_state,
            "trigger": record.trigger, "actor_id": record.actor_id,
            "actor": record.actor.name if record.actor else None, "at": record.at,
            "comment": record.comment or "", "amount": record.amount}


def _money(page: ApplicationPage) -> dict:
    money = page.money
    return {
        "figures": [{"key": f.key, "label": f.label, "amount": f.amount, "hint": f.hint}
                    for f in money.figures],
        "due": {"kind": money.due[0], "amount": money.due[1]} if money.due else None,
        "in_open_batch": money.in_open_batch,
        "payments": [{"id": row.payment.id, "kind": row.payment.kind,
                      "amount": row.payment.amount, "currency": row.payment.currency,
                      "amount_in_currency": row.payment.amount_in_currency,
                      "paid_on": row.payment.paid_on, "reference": row.payment.reference,
                      "reversed": row.reversed} for row in money.payments],
    }


def application_detail(page: ApplicationPage) -> dict:
    a = page.application
    org = a.organisation
    return {
        "id": a.id, "reference": a.reference,
        "call": {"id": a.call.id, "code": a.call.code, "title": a.call.title},
        "voucher_type": a.voucher_type, "voucher_type_label": voucher_types.label(a.voucher_type),
        "title": a.title, "summary": a.summary or "", "details": dict(a.details or {}),
        "state": a.state, "state_label": STATE_LABELS[a.state],
        "company": {"id": org.id, "legal_name": org.legal_name, "country": org.country,
                    "region": org.region or ""},
        "provider": a.provider.name if a.provider else None, "currency": a.currency,
        "requested_amount": a.requested_amount, "awarded_amount": a.awarded_amount,
        "paid_amount": a.paid_amount, "total_costs": a.total_costs,
        "cost_lines": [{"description": c.description, "amount": c.amount}
                       for c in a.cost_lines],
        "weighted_score": a.weighted_score, "consensus_score": a.consensus_score,
        "review_count": a.review_count, "submission_number": a.submission_number,
        "submitted_at": a.submitted_at, "decided_at": a.decided_at,
        "report_due_on": a.report_due_on,
        "reviews": [_review(r, page) for r in page.reviews],
        "audit_trail": [_record(r) for r in page.records],
        "money": _money(page),
    }


# --- payments due -------------------------------------------------------------------------


class ManageDuePaymentSchema(Schema):
    application_id = fields.Integer(required=True)
    reference = fields.String(required=True)
    company = fields.String(required=True)
    voucher_type = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "advance or payment."})
    kind_label = fields.String(required=True)
    amount = Money(required=True)
    currency = fields.String(required=True)
    iban = fields.String(required=True)
    bic = fields.String(required=True)
    account_holder = fields.String(required=True)
    problem = fields.String(required=True, allow_none=True,
                            metadata={"description": "Why it cannot go into a batch."})
    selectable = fields.Boolean(required=True)


class ManageDuePaymentPageSchema(Schema):
    call_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(ManageDuePaymentSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    links = fields.Nested(PageLinksSchema, required=True)


def due_payment(due: Due) -> dict:
    a = due.application
    return {"application_id": a.id, "reference": a.reference,
            "company": a.organisation.legal_name, "voucher_type": a.voucher_type,
            "kind": due.kind, "kind_label": due.label, "amount": due.amount,
            "currency": a.currency, "iban": due.iban, "bic": due.bic,
            "account_holder": due.account_holder, "problem": due.problem,
            "selectable": due.selectable}


# --- a call's budget ----------------------------------------------------------------------


class ManageTypeBudgetSchema(Schema):
    voucher_type = fields.String(required=True)
    label = fields.String(required=True)
    funding_rate = DecimalString(required=True)
    quota = fields.Integer(required=True)
    awarded = fields.Integer(required=True)
    remaining_quota = fields.Integer(required=True)
    vouchers_available = fields.Integer(required=True)
    envelope = Money(required=True)
    committed = Money(required=True)
    paid = Money(required=True)
    outstanding = Money(required=True)
    remaining_envelope = Money(required=True)
    received = fields.Integer(required=True)
    drafts = fields.Integer(required=True)
    applications = fields.Integer(required=True)


class ManageBudgetSchema(Schema):
    call = fields.Nested(ManageCallRefSchema, required=True)
    currency = fields.String(required=True)
    voucher_types = fields.List(fields.Nested(ManageTypeBudgetSchema), required=True)


def type_budget(f: TypeFigures) -> dict:
    return {"voucher_type": f.voucher_type, "label": f.label, "funding_rate": f.funding_rate,
            "quota": f.quota, "awarded": f.awarded, "remaining_quota": f.remaining_quota,
            "vouchers_available": f.vouchers_available, "envelope": f.envelope,
            "committed": f.committed, "paid": f.paid, "outstanding": f.outstanding,
            "remaining_envelope": f.remaining_envelope, "received": f.received,
            "drafts": f.drafts, "applications": f.applications}
