"""The jobs' housekeeping: expired files removed, lost jobs given up.

Run by the worker every JOB_SWEEP_SECONDS (worker.py), by the in-process runner after each
job, and by `flask --app vouchers jobs-expire` (cli_jobs.py). A done job whose file has
expired is shown as expired by the pages at once (service.shown_state), whether or not the
sweep has run yet: the sweep only frees the disk and records it.

This module commits (tests/test_boundary.py lists it): it runs outside any request, one
short transaction per job, so that a file is removed only after its row says so elsewhere.
"""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from ..extensions import db
from ..models import Job
from ..models.base import utcnow
from ..services.transaction import atomic
from .runner import jobs_folder

LOST_RUNNING = ("The work stopped before the file was made (its worker was stopped or "
                "restarted). Retry.")
LOST_QUEUED = ("The work never started (no worker took it: is `flask worker` running?). "
               "Retry.")


@dataclass
class SweepResult:
    expired: int = 0
    lost: int = 0

    def __str__(self) -> str:
        return f"expired {self.expired}, given up {self.lost}"


def sweep(now: datetime | None = None) -> SweepResult:
    now = now or utcnow()
    return SweepResult(expired=expire_files(now), lost=fail_lost(now))


def expire_files(now: datetime) -> int:
    """Done jobs past their expiry: state expired, then their file removed."""
    ids = list(db.session.scalars(select(Job.id).where(Job.state == "done",
                                                       Job.expires_at <= now)))
    db.session.rollback()  # end the read: each job is its own writer's transaction
    count = 0
    for job_id in ids:
        with atomic():
            path = db.session.scalar(select(Job.file_path).where(Job.id == job_id,
                                                                 Job.state == "done"))
            won = path is not None and db.session.execute(
                update(Job).where(Job.id == job_id, Job.state == "done")
                .values(state="expired", file_path="", size=0)
                .execution_options(synchronize_session=False)).rowcount == 1
        db.session.commit()
        if won:
            count += 1
            with suppress(FileNotFoundError):
                os.unlink(jobs_folder() / path)
    return count


def fail_lost(now: datetime) -> int:
    """Jobs running (or waiting) far longer than any job takes: their worker is gone."""
    limit = now - timedelta(seconds=int(current_app.config.get("JOB_TIMEOUT_SECONDS", 1800)))
    lost = 0
    for state, since, reason in (("running", Job.started_at, LOST_RUNNING),
                                 ("queued", Job.created_at, LOST_QUEUED)):
        with atomic():
            lost += db.session.execute(
                update(Job).where(Job.state == state, since < limit)
                .values(state="failed", message=reason, finished_at=now)
                .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
    return lost
