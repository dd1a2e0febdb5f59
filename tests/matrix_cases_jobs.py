"""Authorization-matrix cases of issue 12's jobs (vouchers/jobs/); see tests/matrix_cases.py.

``world_args`` gives the world a finished job of the world's manager (``job_id``): its page
and its file are that manager's alone. The downloads that became jobs (the workbook, a
partner report, the consortium summary, a SEPA file) are POSTs now: each case posts one
and, once the in-process runner has run it, finds its file made.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from tests.matrix_cases import Post, case, url
from vouchers.extensions import db
from vouchers.jobs import runner
from vouchers.models import Job
from vouchers.models.base import utcnow
from vouchers.services.workbook import XLSX_MIMETYPE


def finished_job(user, *, kind: str = "workbook", params: dict, state: str = "done",
                 data: bytes = b"PK\x03\x04 a workbook") -> Job:
    """A job of ``user`` as the runner leaves it: done with its file, or failed."""
    now = utcnow()
    job = Job(kind=kind, params=params, title="Budget workbook of X1", requested_by_id=user.id,
              state="running", progress=100 if state == "done" else 40, attempts=1, queue_id="",
              message="" if state == "done" else "The server ran out of disk.",
              created_at=now, started_at=now, finished_at=now,
              expires_at=now + timedelta(hours=24) if state == "done" else None)
    db.session.add(job)
    db.session.flush()
    if state == "done":
        folder = Path(current_app.config["JOBS_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{job.id}-matrix.xlsx").write_bytes(data)
        job.file_path, job.filename = f"{job.id}-matrix.xlsx", "X1-budget.xlsx"
        # A workbook's own type, as the runner records it (the API documents it).
        job.mimetype, job.size = XLSX_MIMETYPE, len(data)
    job.state = state  # a done job has its file (a CHECK constraint), so set last
    db.session.commit()
    return job


def world_args(make, users: dict, args: dict) -> dict:
    job = finished_job(users["manager"], params={"call_id": args["call_id"]})
    return {"job_id": job.id}


def _made(kind: str, user_id: int):
    def done() -> bool:
        runner.drain(current_app._get_current_object())
        db.session.expire_all()
        return db.session.scalar(select(Job.state).where(
            Job.kind == kind, Job.requested_by_id == user_id)) == "done"

    return done


@case("manager.retry_job")
def _(make):
    manager = make.manager()
    job = finished_job(manager, params={"call_id": make.call().id}, state="failed")
    job_id = job.id

    def done() -> bool:
        runner.drain(current_app._get_current_object())
        return db.session.get(Job, job_id).state == "done"

    return Post("manager", manager, url("manager.retry_job", job_id=job_id), done=done)


@case("manager.download_workbook")
def _(make):
    manager, call = make.manager(), make.call()
    return Post("manager", manager, url("manager.download_workbook", call_id=call.id),
                done=_made("workbook", manager.id))


@case("manager.download_sepa")
def _(make):
    from tests.matrix_cases_payments import _prepared

    batch, manager = _prepared(make)
    return Post("manager", manager, url("manager.download_sepa", batch_id=batch.id),
                done=_made("sepa_file", manager.id))


@case("manager.partner_report_xlsx")
def _(make):
    from tests.matrix_cases_partner_reports import _partner
    from vouchers.clock import today
    from vouchers.services import partner_reports

    partner, manager = _partner(make)
    report = partner_reports.open_next_period(partner, manager, today())
    db.session.commit()
    return Post("partner_manager", manager,
                url("manager.partner_report_xlsx", partner_report_id=report.id),
                done=_made("partner_report", manager.id))


@case("manager.consortium_summary_xlsx")
def _(make):
    programme = make.call().programme
    make.partner(programme, "Lead Agency", "DE", "EUR", is_lead=True,
                 regions=[("DE", "Bavaria", "DE2")])
    manager = make.manager()
    db.session.commit()
    return Post("manager", manager,
                url("manager.consortium_summary_xlsx", programme_id=programme.id),
                done=_made("consortium_summary", manager.id))
