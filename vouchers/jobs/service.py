"""Asking for a job and asking again: what the pages call (the boundary commits).

``submit`` adds the Job row and has it started once the request commits; ``retry`` puts a
failed (or expired) job back in the queue as a new attempt. Neither commits.
"""

from __future__ import annotations

import os
from contextlib import suppress
from datetime import datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import select, update

from ..extensions import db
from ..models import Job, User
from ..models.base import utcnow
from ..services.errors import ConcurrentChange, InvalidInput
from ..services.transaction import CONCURRENT_MESSAGE, atomic
from . import kinds
from .runner import file_of, new_queue_id, start_after_commit

RETRYABLE = ("failed", "expired")
MY_FILES_LIMIT = 50


def shown_state(job: Job, now: datetime | None = None) -> str:
    """The job's state as its page tells it: a done job past its expiry is expired, even
    before the sweep has removed its file."""
    if job.state == "done" and job.expires_at is not None and job.expires_at <= (now or utcnow()):
        return "expired"
    return job.state


def submit(kind: str, params: dict[str, Any], *, title: str, user: User) -> Job:
    """Queue a job of ``kind`` for ``user``; it starts when the caller's transaction commits."""
    if kinds.get(kind) is None:
        raise InvalidInput(gettext("There is no job of the kind %(kind)s.", kind=repr(kind)))
    with atomic():
        job = Job(kind=kind, params=params, title=title[:200], requested_by_id=user.id,
                  state="queued", progress=0, message="", attempts=0, queue_id="",
                  created_at=utcnow())
        db.session.add(job)
        db.session.flush()
        job.queue_id = new_queue_id(job.id)
    start_after_commit(job)
    return job


def retry(job: Job, user: User) -> Job:
    """Queue ``job`` again as a new attempt: it failed, or its file has expired."""
    state = shown_state(job)
    if state not in RETRYABLE:
        raise InvalidInput("This file is being made already." if state in ("queued", "running")
                           else "This file is ready: download it.")
    old_file = file_of(job)
    queue_id = new_queue_id(job.id)
    # As this page saw it: atomic() may begin a new transaction, which would read it anew.
    seen_state, seen_attempts = job.state, job.attempts
    with atomic():
        # Conditional, so of two clicks on Retry one queues it and the other is told.
        again = db.session.execute(
            update(Job).where(Job.id == job.id, Job.state == seen_state,
                              Job.attempts == seen_attempts)
            .values(state="queued", progress=0, message="", file_path="", filename="",
                    mimetype="", size=0, queue_id=queue_id, created_at=utcnow(),
                    started_at=None, finished_at=None, expires_at=None)
            .execution_options(synchronize_session=False)).rowcount == 1
        if not again:
            raise ConcurrentChange(gettext(CONCURRENT_MESSAGE))
    db.session.refresh(job)
    if old_file is not None:  # expired by its time, not swept yet: the sweep no longer sees it
        with suppress(FileNotFoundError):
            os.unlink(old_file)
    start_after_commit(job)
    return job


def jobs_of(user: User, limit: int = MY_FILES_LIMIT) -> list[Job]:
    """The user's most recent jobs, newest first, those they may still have."""
    rows = db.session.scalars(select(Job).where(Job.requested_by_id == user.id)
                              .order_by(Job.created_at.desc(), Job.id.desc()).limit(limit))
    return [job for job in rows if kinds.permits(user, job)]
