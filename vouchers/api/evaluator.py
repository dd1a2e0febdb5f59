"""The evaluator's API: my assignments, one assignment, no conflict or a conflict, a review.

The twin of vouchers/evaluator/views.py, with its permissions, forms and services: an
evaluator reaches only the applications assigned to them with no conflict declared
(``can_open_assignment``: 404 for anything else); until they confirm they have no
conflict of interest an assignment shows only who applied (services/review_pages.py
decides what the page shows, and so what this answers); other evaluators' reviews appear,
numbered and not named, once their own of that version is in.
"""

from __future__ import annotations

from flask_login import current_user
from marshmallow import Schema, fields

from .. import policy, voucher_types
from ..boundary import by_id
from ..evaluator.forms import NOT_APPLICABLE, ConfirmForm, ConflictForm
from ..evaluator.views import _review_form
from ..models import Application
from ..services import deadlines, reviews
from ..services.review_pages import REVIEW_STATUS_LABELS, assignments_page, review_page
from .boundary import api_route, json_form
from .identity import api_blueprint
from .manager_schemas import ManageCostLineSchema, json_form_as
from .schemas import DecimalString, Money, PageLinksSchema, page_links

bp = api_blueprint("evaluator", __name__, "/evaluate",
                   "The evaluator's assignments, conflicts of interest and reviews.")
BLUEPRINTS = [bp]

APPLICATION = {"application": by_id(Application)}
SCORE_FIELD = "score_"  # the review form's score fields: score_<criterion id>


class EvaluateDeadlineSchema(Schema):
    due_on = fields.Date(required=True)
    overdue = fields.Boolean(required=True)
    days_left = fields.Integer(required=True)


class EvaluateAssignmentRowSchema(Schema):
    application_id = fields.Integer(required=True)
    reference = fields.String(required=True)
    title = fields.String(required=True)
    company = fields.String(required=True)
    country = fields.String(required=True)
    voucher_type = fields.String(required=True)
    call_code = fields.String(required=True)
    review_status = fields.String(required=True, metadata={
        "description": "to_confirm, to_review, changing, reviewed or closed."})
    review_status_label = fields.String(required=True)
    review_deadline = fields.Nested(EvaluateDeadlineSchema, required=True, allow_none=True)


class EvaluateAssignmentPageSchema(Schema):
    items = fields.List(fields.Nested(EvaluateAssignmentRowSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    links = fields.Nested(PageLinksSchema, required=True)


class EvaluateAssignmentsQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=lambda n: 1 <= n <= 10**6)


class EvaluateCriterionSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    weight = DecimalString(required=True)


class EvaluateAttachmentSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    size = fields.Integer(required=True)


class EvaluateVersionSchema(Schema):
    number = fields.Integer(required=True)
    submitted_at = fields.DateTime(required=True)


class EvaluateReviewSchema(Schema):
    reviewer = fields.String(required=True, metadata={
        "description": "You, or Evaluator <n>: the others are numbered, never named."})
    mine = fields.Boolean(required=True)
    version = fields.Integer(required=True)
    recommendation = fields.String(required=True)
    comment = fields.String(required=True)
    weighted_score = DecimalString(required=True, allow_none=True)
    scores = fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True),
                         required=True, metadata={
                             "description": "criterion id -> score; null: not applicable."})


class EvaluateContentSchema(Schema):
    """What the evaluator reads once they confirmed they have no conflict."""

    call_code = fields.String(required=True)
    call_title = fields.String(required=True)
    voucher_type = fields.String(required=True)
    voucher_type_label = fields.String(required=True)
    summary = fields.String(required=True)
    details = fields.Dict(keys=fields.String(), required=True)
    provider = fields.String(required=True, allow_none=True)
    requested_amount = Money(required=True)
    awarded_amount = Money(required=True, allow_none=True)
    total_costs = Money(required=True)
    cost_lines = fields.List(fields.Nested(ManageCostLineSchema), required=True)
    attachments = fields.List(fields.Nested(EvaluateAttachmentSchema), required=True)
    versions = fields.List(fields.Nested(EvaluateVersionSchema), required=True)
    submission_number = fields.Integer(required=True)
    score_scale = fields.Integer(required=True)
    criteria = fields.List(fields.Nested(EvaluateCriterionSchema), required=True)
    may_review = fields.Boolean(required=True)
    review_deadline = fields.Nested(EvaluateDeadlineSchema, required=True, allow_none=True)
    reviews = fields.List(fields.Nested(EvaluateReviewSchema), required=True, metadata={
        "description": "Reviews of the current version: yours first; the others' only "
                       "once yours is in."})
    earlier_reviews = fields.List(fields.Nested(EvaluateReviewSchema), required=True,
                                  metadata={"description": "Of earlier versions: no longer "
                                                           "counting."})


class EvaluateAssignmentSchema(Schema):
    application_id = fields.Integer(required=True)
    reference = fields.String(required=True)
    title = fields.String(required=True)
    company = fields.String(required=True)
    region = fields.String(required=True)
    review_status = fields.String(required=True)
    review_status_label = fields.String(required=True)
    confirmed = fields.Boolean(required=True, metadata={
        "description": "Whether you confirmed having no conflict of interest."})
    may_confirm_no_conflict = fields.Boolean(required=True)
    may_declare_conflict = fields.Boolean(required=True)
    content = fields.Nested(EvaluateContentSchema, required=True, allow_none=True, metadata={
        "description": "null until you confirm you have no conflict of interest."})


class EvaluateConflictBodySchema(Schema):
    # Shapes only: the page's ConflictForm says what a reason must be, with its messages.
    reason = fields.String()


class EvaluateConflictSchema(Schema):
    application_id = fields.Integer(required=True)
    reference = fields.String(required=True)
    conflict_declared_at = fields.DateTime(required=True)
    reason = fields.String(required=True)


class EvaluateReviewBodySchema(Schema):
    """Shapes only: the page's review form says what is missing or wrong."""

    scores = fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True),
                         metadata={"description": "criterion id -> score from 0 to the "
                                                  "call's scale; null: not applicable."})
    recommendation = fields.String(metadata={"description": "award, waitlist or reject."})
    comment = fields.String()


class EvaluateSubmittedReviewSchema(EvaluateReviewSchema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(required=True)
    submitted_at = fields.DateTime(required=True)


# --- serializers ---------------------------------------------------------------------------


def _deadline(deadline: deadlines.Deadline | None) -> dict | None:
    if deadline is None:
        return None
    return {"due_on": deadline.due_on, "overdue": deadline.overdue,
            "days_left": deadline.days_left}


def _row(row) -> dict:
    a = row.application
    return {"application_id": a.id, "reference": a.reference, "title": a.title,
            "company": a.organisation.legal_name, "country": a.organisation.country,
            "voucher_type": a.voucher_type, "call_code": a.call.code,
            "review_status": row.review_status, "review_status_label": row.review_label,
            "review_deadline": _deadline(row.deadline)}


def _review(review, index: int, scores: dict) -> dict:
    mine = review.evaluator_id == current_user.id
    return {"reviewer": "You" if mine else f"Evaluator {index}", "mine": mine,
            "version": review.version, "recommendation": review.recommendation,
            "comment": review.comment, "weighted_score": review.weighted_score,
            "scores": {str(k): v for k, v in scores.get(review.id, {}).items()}}


def _reviews(rows: list, scores: dict) -> list[dict]:
    """Numbered per version as the page numbers them (its table per version)."""
    numbered, position = [], {}
    for review in rows:
        position[review.version] = position.get(review.version, 0) + 1
        numbered.append(_review(review, position[review.version], scores))
    return numbered


def _content(application: Application, page: dict) -> dict:
    cvt = application.call_voucher_type
    reviewing = page["mine"] is None and policy.can_review(current_user, application)
    return {
        "call_code": application.call.code, "call_title": application.call.title,
        "voucher_type": application.voucher_type,
        "voucher_type_label": voucher_types.label(application.voucher_type),
        "summary": application.summary or "", "details": dict(application.details or {}),
        "provider": application.provider.name if application.provider else None,
        "requested_amount": application.requested_amount,
        "awarded_amount": application.awarded_amount, "total_costs": application.total_costs,
        "cost_lines": [{"description": c.description, "amount": c.amount}
                       for c in application.cost_lines],
        "attachments": [{"id": f.id, "name": f.original_name, "kind": f.kind, "size": f.size}
                        for f in page["attachments"]],
        "versions": [{"number": v.number, "submitted_at": v.submitted_at}
                     for v in page["versions"]],
        "submission_number": application.submission_number, "score_scale": cvt.score_scale,
        "criteria": [{"id": c.id, "name": c.name, "description": c.description or "",
                      "weight": c.weight} for c in cvt.criteria],
        "may_review": reviewing,
        "review_deadline": _deadline(deadlines.review_deadline(application.call, reviewing)),
        "reviews": _reviews(page["submitted"], page["scores"]),
        "earlier_reviews": _reviews(page["earlier"], page["scores"]),
    }


def _assignment(application: Application) -> dict:
    page = review_page(application, current_user)
    org = application.organisation
    return {
        "application_id": application.id, "reference": application.reference,
        "title": application.title, "company": org.legal_name, "region": org.region or "",
        "review_status": page["review_status"],
        "review_status_label": REVIEW_STATUS_LABELS[page["review_status"]],
        "confirmed": page["confirmed"],
        "may_confirm_no_conflict": policy.can_confirm_no_conflict(current_user, application),
        "may_declare_conflict": page["mine"] is None,
        "content": _content(application, page) if page["confirmed"] else None,
    }


def _review_body(body: dict) -> dict:
    """The JSON review as the page's form posts it: score_<criterion id> fields, "na"
    for not applicable."""
    form = {k: v for k, v in body.items() if k != "scores"}
    for criterion, score in (body.get("scores") or {}).items():
        form[f"{SCORE_FIELD}{criterion}"] = NOT_APPLICABLE if score is None else score
    return form


def _api_field(name: str) -> str:
    return f"scores.{name.removeprefix(SCORE_FIELD)}" if name.startswith(SCORE_FIELD) else name


# --- routes --------------------------------------------------------------------------------


@api_route(bp, "/assignments", permission=policy.can_evaluate)
@bp.arguments(EvaluateAssignmentsQuerySchema, location="query")
@bp.response(200, EvaluateAssignmentPageSchema)
def assignments(args):
    """My standing assignments (no conflict declared): those still to review first."""
    result = assignments_page(current_user, args["page"])
    pages = max(1, result.pages)
    return {"items": [_row(r) for r in result.items], "total": result.total,
            "page": result.page, "per_page": result.per_page,
            "links": page_links("api_evaluator.assignments", result.page, pages)}


@api_route(bp, "/assignments/<int:application_id>", permission=policy.can_open_assignment,
           load=APPLICATION)
@bp.etag
@bp.response(200, EvaluateAssignmentSchema)
def assignment(application: Application):
    """One assignment as the evaluator's page shows it: only who applied until you confirm
    you have no conflict of interest; then the application and the reviews you may see."""
    return _assignment(application)


@api_route(bp, "/assignments/<int:application_id>/no-conflict", methods=("POST",),
           permission=policy.can_confirm_no_conflict, load=APPLICATION)
@bp.response(200, EvaluateAssignmentSchema)
def confirm_no_conflict(application: Application):
    """Confirm you have no conflict of interest: the answer shows the application."""
    json_form(ConfirmForm, {})
    reviews.confirm_no_conflict(application, current_user)
    return _assignment(application)


@api_route(bp, "/assignments/<int:application_id>/conflict", methods=("POST",),
           permission=policy.can_open_assignment, load=APPLICATION)
@bp.arguments(EvaluateConflictBodySchema)
@bp.response(200, EvaluateConflictSchema)
def declare_conflict(body, application: Application):
    """Declare a conflict of interest, with its reason: the application leaves your list
    and the programme manager asks another evaluator."""
    form = json_form(ConflictForm, body)
    reviews.declare_conflict(application, current_user, form.reason.data)
    assignment = reviews.assignment_of(application, current_user)
    return {"application_id": application.id, "reference": application.reference,
            "conflict_declared_at": assignment.conflict_declared_at,
            "reason": assignment.conflict_reason}


@api_route(bp, "/assignments/<int:application_id>/review", methods=("POST",),
           permission=policy.can_open_assignment, load=APPLICATION)
@bp.arguments(EvaluateReviewBodySchema)
@bp.response(201, EvaluateSubmittedReviewSchema)
def submit_review(body, application: Application):
    """Submit your review of the current version: a score per criterion (0 to the call's
    scale, or null: not applicable), a recommendation and a comment. Field errors name
    a criterion's score ``scores.<criterion id>``."""
    form = json_form_as(_review_form, _review_body(body), _api_field, application=application)
    review = reviews.submit_review(application, current_user, scores=form.scores(),
                                   recommendation=form.recommendation.data,
                                   comment=form.comment.data)
    scores = {review.id: {s.criterion_id: s.score for s in review.scores}}
    return {**_review(review, 1, scores), "id": review.id, "application_id": application.id,
            "submitted_at": review.submitted_at}
