"""Running a job: on RQ when REDIS_URL is set, else on a few threads of the web process.

Either way the same function (``execute``) does the work and the Job row is the one record:
it claims the row (queued -> running) with a conditional UPDATE, so a job queued twice is
run once; reports its progress; writes the kind's file next to its final place and renames
it at the end, so a half-written file is never offered; and records done (with the file
and when it expires) or failed (with the reason a manager can act on).

A job starts only once the transaction that created it has committed (``start_after_commit``
and the session's after_commit event): a worker never looks for a row that is not there
yet, and a request that rolls back starts nothing. Likewise, with Redis, a commit that
queued outbox messages (services/outbox.py) enqueues one "send the due mail" job.

This module commits (tests/test_boundary.py lists it): a job runs outside any request, and
its progress must be visible to the page while the work goes on, so the claim, each step
of progress and the outcome are each their own short transaction.
"""

from __future__ import annotations

import os
import secrets
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from threading import Lock
from uuid import uuid4

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, update

from ..extensions import db
from ..models import Job
from ..models.base import utcnow
from ..services.errors import DomainError
from ..services.transaction import atomic
from . import kinds

PENDING_JOBS = "vouchers_jobs_to_start"
MAIL_QUEUED = "vouchers_mail_queued"

NO_LONGER_ALLOWED = "You may no longer have this file (your role or partner changed)."
UNKNOWN_KIND = "This kind of file can no longer be made."
UNEXPECTED = ("The file could not be made because of an unexpected error; it has been "
              "logged. Retry, and tell the administrators if it fails again.")
QUEUE_DOWN = "The job queue (Redis) did not answer, so the work never started. Retry."
_MESSAGE_LENGTH = 1000


# --- settings ------------------------------------------------------------------------


def uses_redis(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("REDIS_URL"))


def jobs_folder(app: Flask | None = None) -> Path:
    return Path((app or current_app).config["JOBS_FOLDER"])


def file_of(job: Job) -> Path | None:
    """The job's file on disk (None when it has none)."""
    return jobs_folder() / job.file_path if job.file_path else None


def expiry(moment: datetime) -> datetime:
    return moment + timedelta(seconds=int(current_app.config.get("JOB_FILE_SECONDS", 86400)))


def redis_connection(app: Flask | None = None):
    from redis import Redis

    return Redis.from_url((app or current_app).config["REDIS_URL"], socket_timeout=10,
                          socket_connect_timeout=5)


def rq_queue(app: Flask | None = None):
    from rq import Queue

    app = app or current_app
    return Queue(app.config.get("RQ_QUEUE") or "vouchers", connection=redis_connection(app))


# --- starting after the commit -------------------------------------------------------


def new_queue_id(job_id: int) -> str:
    """The RQ job's id a new attempt is enqueued under ("" when it runs in-process)."""
    return f"vouchers-job-{job_id}-{uuid4().hex[:12]}" if uses_redis() else ""


def start_after_commit(job: Job) -> None:
    """Start ``job`` (flushed, with its queue_id set) once the caller's transaction commits."""
    db.session.info.setdefault(PENDING_JOBS, []).append((job.id, job.queue_id))


def send_mail_after_commit() -> None:
    """With Redis, have a worker send the mail this transaction queued once it commits."""
    if has_app_context() and uses_redis():
        db.session.info[MAIL_QUEUED] = True


@event.listens_for(db.session, "after_commit")
def _after_commit(session) -> None:
    pending = session.info.pop(PENDING_JOBS, None)
    mail = session.info.pop(MAIL_QUEUED, False)
    if not pending and not mail:
        return
    app = current_app._get_current_object()
    for job_id, queue_id in pending or ():
        dispatch(app, job_id, queue_id)
    if mail:
        enqueue_mail(app)


@event.listens_for(db.session, "after_rollback")
def _after_rollback(session) -> None:
    session.info.pop(PENDING_JOBS, None)
    session.info.pop(MAIL_QUEUED, None)


def dispatch(app: Flask, job_id: int, queue_id: str = "") -> None:
    """Hand a committed, queued job to RQ, or to the web process's threads."""
    if not uses_redis(app):
        _in_process(app).submit(job_id)
        return
    from redis.exceptions import RedisError

    timeout = int(app.config.get("JOB_TIMEOUT_SECONDS", 1800))
    try:
        rq_queue(app).enqueue(perform, job_id, job_id=queue_id or None, job_timeout=timeout,
                              result_ttl=3600, failure_ttl=7 * 86400)
    except RedisError:
        app.logger.exception("job %s: could not be put on the RQ queue", job_id)
        # The request's session has just committed and may not run SQL inside this event:
        # the failure is recorded on a connection of its own.
        with db.engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == job_id, Job.state == "queued")
                         .values(state="failed", message=QUEUE_DOWN, finished_at=utcnow()))


# While a mail job waits on the queue, commits queue no other: a rush of submissions (a
# receipt each) is one job sending them all, not one per submission ahead of the files.
MAIL_GUARD_SECONDS = 300


def enqueue_mail(app: Flask) -> None:
    from redis.exceptions import RedisError

    queue = rq_queue(app)
    guard = f"vouchers:mail-waiting:{queue.name}"
    try:
        if queue.connection.set(guard, "1", nx=True, ex=MAIL_GUARD_SECONDS):
            queue.enqueue(send_due_mail, guard, job_timeout=3600, result_ttl=600)
    except RedisError:
        # The worker's periodic sweep sends it instead (worker.py).
        app.logger.warning("the mail queued could not be handed to RQ; the worker's next "
                           "sweep sends it")


# --- the RQ entry points -------------------------------------------------------------

_worker_app: Flask | None = None


def _app_for_worker() -> Flask:
    """The app a worker job runs in: the CLI's (flask worker), else one made once here
    (a worker started with plain `rq worker`)."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from .. import create_app

        _worker_app = create_app()
    return _worker_app


def perform(job_id: int) -> str:
    """RQ's job function: run the Job row ``job_id`` in a fresh app context (its own
    database session, never the worker's)."""
    with _app_for_worker().app_context():
        return execute(job_id)


def send_due_mail(guard: str = "", limit: int = 100, rounds: int = 20) -> str:
    """RQ's mail job: what services/mail_sender.py's sender does, until nothing is due.

    Two of these at once (or this and `send-mail --loop`) never send a message twice: each
    message is claimed before it is sent."""
    from rq import get_current_job

    from ..services.mail_sender import SendResult, deliver_due

    current = get_current_job()
    if guard and current is not None:
        # From now on a commit queuing mail enqueues a new job: this one may have read
        # the outbox before that commit.
        current.connection.delete(guard)
    total = SendResult()
    with _app_for_worker().app_context():
        for _ in range(rounds):
            result = deliver_due(limit=limit)
            total.sent += result.sent
            total.retrying += result.retrying
            total.failed += result.failed
            if result.total < limit:
                break
    return str(total)


# --- the in-process runner -----------------------------------------------------------


class InProcess:
    """A few threads of the web process: jobs run there when no Redis is configured.

    A thread runs ``execute`` like a worker would, in an app context of its own; after each
    job it sweeps expired files (sweep.py), since no worker does. ``drain`` waits for what
    was handed over (tests, and a clean shutdown)."""

    def __init__(self, app: Flask):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=max(1, int(app.config.get("JOB_THREADS", 2))),
                                       thread_name_prefix="vouchers-job")
        self.futures: set[Future] = set()
        self.lock = Lock()

    def submit(self, job_id: int) -> None:
        future = self.pool.submit(self._run, job_id)
        with self.lock:
            self.futures.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future) -> None:
        with self.lock:
            self.futures.discard(future)

    def _run(self, job_id: int) -> None:
        from .sweep import sweep

        with self.app.app_context():
            try:
                execute(job_id)
                sweep()
            except Exception:  # noqa: BLE001 - a thread has nobody to raise to
                self.app.logger.exception("job %s: the in-process runner failed", job_id)

    def drain(self, timeout: float | None = 60) -> None:
        while True:
            with self.lock:
                futures = set(self.futures)
            if not futures:
                return
            wait(futures, timeout=timeout)


_runners: dict[int, InProcess] = {}
_runners_lock = Lock()


def _in_process(app: Flask) -> InProcess:
    with _runners_lock:
        runner = _runners.get(id(app))
        if runner is None or runner.app is not app:
            runner = _runners[id(app)] = InProcess(app)
        return runner


def drain(app: Flask | None = None, timeout: float | None = 60) -> None:
    """Wait until the in-process jobs handed over so far have finished."""
    app = app or current_app._get_current_object()
    runner = _runners.get(id(app))
    if runner is not None and runner.app is app:
        runner.drain(timeout)


# --- doing the work ------------------------------------------------------------------


def _update(job_id: int, attempt: int | None, **values) -> bool:
    """One short transaction on the job's row while it is still this run's; committed."""
    where = [Job.id == job_id]
    if attempt is not None:
        where += [Job.state == "running", Job.attempts == attempt]
    with atomic():
        done = db.session.execute(update(Job).where(*where).values(**values)
                                  .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    return done


def _claim(job_id: int, now: datetime) -> int | None:
    """queued -> running; the attempt's number, or None when it is not (or no longer) queued."""
    with atomic():
        won = db.session.execute(
            update(Job).where(Job.id == job_id, Job.state == "queued")
            .values(state="running", started_at=now, attempts=Job.attempts + 1, progress=0,
                    message="Starting")
            .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    if not won:
        return None
    return db.session.get(Job, job_id).attempts


def _reporter(job_id: int, attempt: int):
    last: list = [0, "Starting"]

    def report(percent: int, step: str) -> None:
        step = step or last[1]
        # A write only when the bar would move: a million rows are a hundred updates.
        if percent <= last[0] and step == last[1]:
            return
        last[:] = [max(percent, last[0]), step]
        _update(job_id, attempt, progress=last[0], message=step[:_MESSAGE_LENGTH])

    return report


def execute(job_id: int) -> str:
    """Run the job ``job_id`` if it is queued; return its state afterwards."""
    now = utcnow()
    attempt = _claim(job_id, now)
    if attempt is None:
        return "skipped"
    job = db.session.get(Job, job_id)
    kind_name = job.kind  # read now: after a database error the session cannot load it
    spec = kinds.get(kind_name)
    folder = jobs_folder()
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{job_id}-{attempt}-{secrets.token_hex(4)}.part"
    try:
        if spec is None:
            raise DomainError(UNKNOWN_KIND)
        if not spec.permits(job.requested_by, job.params or {}):
            raise DomainError(NO_LONGER_ALLOWED)
        run = kinds.JobRun(job_id=job_id, params=dict(job.params or {}),
                           requested_by=job.requested_by, now=now,
                           report=_reporter(job_id, attempt))
        with open(part, "wb") as target:
            made = spec.make(run, target)
        name = f"{job_id}-{secrets.token_hex(8)}{PurePosixPath(made.filename).suffix}"
        size = part.stat().st_size
        os.replace(part, folder / name)
    except DomainError as exc:
        return _failed(job_id, attempt, part, exc.message)
    except Exception:  # noqa: BLE001 - any failure of the work is the job's, not the worker's
        current_app.logger.exception("job %s (%s) failed", job_id, kind_name)
        return _failed(job_id, attempt, part, UNEXPECTED)
    finished = utcnow()
    if not _update(job_id, attempt, state="done", progress=100, message="", file_path=name,
                   filename=made.filename[:200], mimetype=made.mimetype[:100], size=size,
                   finished_at=finished, expires_at=expiry(finished)):
        # The sweep gave this run up for lost meanwhile (sweep.fail_stale): its record
        # stands, and the file goes.
        with suppress(FileNotFoundError):
            os.unlink(folder / name)
        return "lost"
    return "done"


def _failed(job_id: int, attempt: int, part: Path, reason: str) -> str:
    db.session.rollback()
    with suppress(FileNotFoundError):
        os.unlink(part)
    _update(job_id, attempt, state="failed", message=reason[:_MESSAGE_LENGTH],
            finished_at=utcnow())
    return "failed"
