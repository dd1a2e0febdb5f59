"""A job of the API (vouchers/jobs/): a file made off the request path, followed by its
requester until it is ready, then downloaded until it expires.

The state is the one the job's page shows (``service.shown_state``: a done job past its
expiry reads expired before the sweep removes its file), so the page and the API never
disagree about whether the file can be had.
"""

from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields

from ..jobs import service
from ..models import Job
from ..models.jobs import JOB_STATES
from ..services.workbook import XLSX_MIMETYPE

# What a job's file is: the app's kinds make these (their Made(...) in
# vouchers/jobs/file_kinds.py); a kind registered later makes its own, hence the "*/*".
FILE_MIMETYPES = (XLSX_MIMETYPE, "application/xml", "*/*")


class JobFileSchema(Schema):
    url = fields.String(required=True, metadata={"description": "GET it for the file."})
    filename = fields.String(required=True)
    mimetype = fields.String(required=True)
    size = fields.Integer(required=True, metadata={"description": "In bytes."})


class JobLinksSchema(Schema):
    self_ = fields.String(data_key="self", required=True)


class JobSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    state = fields.String(required=True, metadata={"enum": list(JOB_STATES)})
    progress = fields.Integer(required=True, metadata={"description": "0 to 100."})
    message = fields.String(required=True, metadata={
        "description": "The step under way while running; why, when failed."})
    attempts = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    started_at = fields.DateTime(required=True, allow_none=True)
    finished_at = fields.DateTime(required=True, allow_none=True)
    expires_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "When the file is removed; ask for it again after."})
    file = fields.Nested(JobFileSchema, required=True, allow_none=True, metadata={
        "description": "Present once the job is done, until the file expires."})
    links = fields.Nested(JobLinksSchema, required=True)


def job_url(job: Job) -> str:
    return url_for("api_manager_actions.job", job_id=job.id)


def job_data(job: Job) -> dict:
    state = service.shown_state(job)
    file = None
    if state == "done":
        file = {"url": url_for("api_manager_actions.job_file", job_id=job.id),
                "filename": job.filename, "mimetype": job.mimetype, "size": job.size}
    return {"id": job.id, "kind": job.kind, "title": job.title, "state": state,
            "progress": job.progress, "message": job.message or "", "attempts": job.attempts,
            "created_at": job.created_at, "started_at": job.started_at,
            "finished_at": job.finished_at, "expires_at": job.expires_at, "file": file,
            "links": {"self_": job_url(job)}}


FILE_RESPONSE = {
    "description": "The job's file, as an attachment, of the type its kind makes: the "
                   "workbooks are xlsx, a SEPA file XML.",
    "content": {mimetype: {"schema": {"type": "string", "format": "binary"}}
                for mimetype in FILE_MIMETYPES},
}

LOCATION_HEADER = {"Location": {"description": "The job: GET it to follow its progress.",
                                "schema": {"type": "string"}}}
