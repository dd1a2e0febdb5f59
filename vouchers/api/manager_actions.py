"""The manager's changes through the API: every lifecycle action of the application page,
the assignment of an evaluator, and the funder's workbook as a job.

The actions are the page's own ``ACTIONS`` (vouchers/manager/applications.py): each route
fills that action's form from the JSON body (``posted_form``, so a payment gets the kind
its state calls for, as on the page), runs the action's function, and the boundary
commits or answers the service's refusal. Nothing is checked here that the page does not
check: the page only *draws* the buttons its ``offered`` allows; a POST of another action
reaches the service, whose lifecycle guard refuses it with the message the page shows
("Not possible now: ..."). The API does exactly that, so both say the same.

One route per action rather than one with an ``action`` parameter: each action's body is
then documented as its own form's fields (``form_schema``), where one route could only
document the union of all the forms. The routes are made from ``ACTIONS`` in a loop, so a
new action of the page is an API route too.
"""

from __future__ import annotations

from flask import send_file
from flask_login import current_user
from marshmallow import Schema, fields
from sqlalchemy import func, select
from wtforms import DateField, SelectField, SelectMultipleField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import AnyOf, Length

from workflows.lifecycle import STATE_LABELS

from .. import policy
from ..boundary import by_id
from ..extensions import db
from ..fields import MoneyField, optional_id
from ..jobs import service
from ..jobs.runner import file_of
from ..manager.applications import ACTIONS, Action, posted_form
from ..manager.forms import AssignForm
from ..manager.workbook import WorkbookFilterForm, queue_workbook, workbook_form
from ..models import Application, AuditRecord, Call, Job
from ..services.application_page import assign_evaluator
from .boundary import api_route, json_form
from .identity import api_blueprint
from .job_schemas import FILE_RESPONSE, LOCATION_HEADER, JobSchema, job_data, job_url
from .problems import fail
from .schemas import Money

bp = api_blueprint("manager_actions", __name__, "/manage",
                   "The manager's actions on applications, and the files made as jobs.")
BLUEPRINTS = [bp]

APPLICATION = {"application": by_id(Application)}
JOB = {"job": by_id(Job)}


# --- bodies: the pages' forms, described --------------------------------------------------


def _field(key: str, unbound: UnboundField) -> fields.Field:
    """The JSON field of a form's field, for the document only: the form validates (with
    its own messages), so the schema states types and bounds and enforces none of them."""
    kind, kwargs = unbound.field_class, unbound.kwargs
    label = kwargs.get("label") or (unbound.args[0] if unbound.args else "")
    meta: dict = {"description": str(label) or key.replace("_", " ").capitalize()}
    validators = kwargs.get("validators") or (unbound.args[1] if len(unbound.args) > 1 else ())
    for validator in validators:
        if isinstance(validator, Length) and validator.max >= 0:
            meta["maxLength"] = validator.max
        elif isinstance(validator, AnyOf):
            meta["enum"] = list(validator.values)
    if issubclass(kind, MoneyField):
        return fields.String(metadata={**meta, "format": "decimal", "example": "1000.00"})
    if issubclass(kind, DateField):
        return fields.String(metadata={**meta, "format": "date"})
    if issubclass(kind, SelectMultipleField):
        return fields.List(fields.String(), metadata=meta)
    if issubclass(kind, SelectField) and kwargs.get("coerce") in (int, optional_id):
        return fields.Integer(metadata=meta)
    if issubclass(kind, StringField | SelectField):
        return fields.String(metadata=meta)
    raise TypeError(f"{kind.__name__}: say how the API's document shows this kind of field")


def form_schema(form: type, name: str) -> type[Schema]:
    """A schema of the JSON body that fills ``form``: its fields, by the names it posts."""
    unbound = sorted(((key, value) for key in dir(form)
                      if isinstance(value := getattr(form, key), UnboundField)),
                     key=lambda item: item[1].creation_counter)
    return Schema.from_dict({u.name or key: _field(key, u) for key, u in unbound}, name=name)


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


# --- answers ------------------------------------------------------------------------------


class ActionApplicationSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": list(STATE_LABELS)})
    state_label = fields.String(required=True)
    voucher_type = fields.String(required=True)
    currency = fields.String(required=True, metadata={
        "description": "The voucher's currency; the amounts are in EUR."})
    requested_amount = Money(required=True)
    awarded_amount = Money(required=True, allow_none=True)
    released_amount = Money(required=True)
    committed_amount = Money(required=True)
    paid_amount = Money(required=True)
    outstanding_amount = Money(required=True)


class ActionAuditRecordSchema(Schema):
    id = fields.Integer(required=True)
    trigger = fields.String(required=True)
    from_state = fields.String(required=True, allow_none=True)
    to_state = fields.String(required=True)
    at = fields.DateTime(required=True)
    actor_id = fields.Integer(required=True, allow_none=True)
    comment = fields.String(required=True)
    amount = Money(required=True, allow_none=True)


class ActionResultSchema(Schema):
    action = fields.String(required=True)
    message = fields.String(required=True, metadata={"description": "What the page says."})
    application = fields.Nested(ActionApplicationSchema, required=True)
    audit = fields.List(fields.Nested(ActionAuditRecordSchema), required=True, metadata={
        "description": "The audit records this action wrote, oldest first: a state "
                       "change, a movement of money (a payment, a release), or both."})


class AssignedEvaluatorSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class AssignmentResultSchema(Schema):
    message = fields.String(required=True)
    evaluator = fields.Nested(AssignedEvaluatorSchema, required=True)
    application = fields.Nested(ActionApplicationSchema, required=True)
    audit = fields.List(fields.Nested(ActionAuditRecordSchema), required=True)


def _last_record_id(application: Application) -> int:
    return db.session.scalar(select(func.coalesce(func.max(AuditRecord.id), 0))
                             .where(AuditRecord.application_id == application.id))


def _result(application: Application, after_record: int) -> dict:
    """The application as the action left it, and the audit records it wrote."""
    # Some services write with UPDATE statements that bypass the loaded object.
    db.session.flush()
    db.session.refresh(application)
    records = db.session.scalars(
        select(AuditRecord).where(AuditRecord.application_id == application.id,
                                  AuditRecord.id > after_record)
        .order_by(AuditRecord.id)).all()
    return {
        "application": {
            "id": application.id, "reference": application.reference,
            "state": application.state, "state_label": STATE_LABELS[application.state],
            "voucher_type": application.voucher_type, "currency": application.currency,
            "requested_amount": application.requested_amount,
            "awarded_amount": application.awarded_amount,
            "released_amount": application.released_amount,
            "committed_amount": application.committed_amount,
            "paid_amount": application.paid_amount,
            "outstanding_amount": application.outstanding},
        "audit": [{"id": r.id, "trigger": r.trigger, "from_state": r.from_state,
                   "to_state": r.to_state, "at": r.at, "actor_id": r.actor_id,
                   "comment": r.comment or "", "amount": r.amount} for r in records],
    }


# --- the lifecycle actions ----------------------------------------------------------------


def _action_route(action: Action) -> None:
    def act(data, application: Application):
        form = json_form(posted_form, data, prefix=action.name, application=application,
                         action=action)
        before = _last_record_id(application)
        action.run(application, current_user, form)
        return {"action": action.name, "message": action.done,
                **_result(application, before)}

    act.__name__ = f"action_{action.name}"
    act.__doc__ = (f"{action.label}.\n\nThe application page's action of the same name, "
                   "with its form's fields as the body; refused with the page's message "
                   "when the application's state or the budget does not allow it.")
    body = form_schema(action.form, f"{_camel(action.name)}ActionBody")
    view = bp.response(200, ActionResultSchema)(act)
    view = bp.arguments(body, required=False)(view)
    api_route(bp, f"/applications/<int:application_id>/actions/{action.name}",
              methods=("POST",), permission=policy.can_manage, load=APPLICATION,
              endpoint=act.__name__)(view)


for _action in ACTIONS.values():
    _action_route(_action)


@api_route(bp, "/applications/<int:application_id>/assignments", methods=("POST",),
           permission=policy.can_manage, load=APPLICATION, endpoint="assign_evaluator")
@bp.arguments(form_schema(AssignForm, "AssignEvaluatorBody"), required=False)
@bp.response(201, AssignmentResultSchema)
def assign(data, application: Application):
    """Assign an evaluator (the application page's assignment form).

    Starts the review of a submitted application; the service says who may be assigned.
    """
    form = json_form(AssignForm, data, prefix="assign")
    before = _last_record_id(application)
    evaluator = assign_evaluator(application, form.evaluator.data, current_user)
    return {"message": f"{evaluator.name} assigned.",
            "evaluator": {"id": evaluator.id, "name": evaluator.name},
            **_result(application, before)}


# --- the workbook as a job, and the jobs ----------------------------------------------------


@api_route(bp, "/calls/<int:call_id>/workbook", methods=("POST",),
           permission=policy.can_run_programme, load={"call": by_id(Call)},
           endpoint="workbook")
@bp.arguments(form_schema(WorkbookFilterForm, "WorkbookFiltersBody"), required=False)
@bp.response(202, JobSchema, headers=LOCATION_HEADER)
def workbook(data, call: Call):
    """Ask for the call's budget workbook (xlsx): a job, followed at its Location.

    The dashboard's filters: voucher types (none: all) and the award dates, both included.
    """
    form = json_form(workbook_form, data, call=call)
    job = queue_workbook(call, form.filters, current_user)
    return job_data(job), {"Location": job_url(job)}


@api_route(bp, "/jobs/<int:job_id>", permission=policy.can_see_job, load=JOB, endpoint="job")
@bp.etag
@bp.response(200, JobSchema)
def job(job: Job):
    """A job you asked for: its state, progress and, once done, its file until it expires."""
    # Polled while it runs: kept by nobody else, and revalidated (the ETag) every time.
    return job_data(job), {"Cache-Control": "private, no-cache"}


@api_route(bp, "/jobs/<int:job_id>/file", permission=policy.can_see_job, load=JOB,
           endpoint="job_file")
@bp.alt_response(409, response="PROBLEM_409")
@bp.alt_response(410, response="PROBLEM_410")
@bp.doc(responses={"200": FILE_RESPONSE})
def job_file(job: Job):
    """The job's file, once it is done (409 before; 410 once it has expired)."""
    state = service.shown_state(job)
    path = file_of(job)
    if state == "expired" or (state == "done" and (path is None or not path.is_file())):
        fail(410, "This file has expired: files are kept for a while after they are made, "
                  "then removed from the server. Ask for it again (retry).")
    if state == "failed":
        fail(409, f"The file could not be made: {job.message}")
    if state != "done":
        fail(409, "This file is being made: follow the job and download it once it is done.")
    response = send_file(path, mimetype=job.mimetype, as_attachment=True,
                         download_name=job.filename)
    # Payments to named SMEs, a funder's figures: not for a shared cache or the client's.
    response.cache_control.no_store = True
    return response


@api_route(bp, "/jobs/<int:job_id>/retry", methods=("POST",), permission=policy.can_retry_job,
           load=JOB, endpoint="retry_job")
@bp.response(202, JobSchema, headers=LOCATION_HEADER)
def retry_job(job: Job):
    """Make a failed or expired job's file again, with the data as it is now."""
    job = service.retry(job, current_user)
    return job_data(job), {"Location": job_url(job)}
