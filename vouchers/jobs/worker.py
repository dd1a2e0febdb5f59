"""The RQ worker of `flask --app vouchers worker` (cli_jobs.py).

RQ's own forking Worker, with two additions:

- between jobs, every JOB_SWEEP_SECONDS, it sweeps (sweep.py: expired files, lost jobs) and
  enqueues a "send the due mail" job, so that mail whose enqueue was lost, and messages
  whose retry time has come (services/mail_sender.py's growing delays), still go out;
- each work horse (the forked child running one job) drops the database connections it
  inherited from the worker: a connection is never shared by two processes.
"""

from __future__ import annotations

from flask import Flask
from rq import Worker

from ..extensions import db
from . import runner
from .sweep import sweep


class Sweeping:
    """What the app adds to an RQ worker class: the sweep between jobs (see above)."""

    app: Flask | None = None
    send_mail: bool = True

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        if self.app is None:
            return
        with self.app.app_context():
            try:
                result = sweep()
                if result.expired or result.lost:
                    self.log.info("jobs swept: %s", result)
            except Exception:  # noqa: BLE001 - the next sweep tries again
                self.log.exception("the jobs' sweep failed")
            finally:
                db.session.remove()
        if self.send_mail:
            runner.enqueue_mail(self.app)


class VoucherWorker(Sweeping, Worker):
    def main_work_horse(self, job, queue):
        if self.app is not None:
            with self.app.app_context():
                db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)


def make_worker(app: Flask, *, queue_name: str | None = None, send_mail: bool = True,
                worker_class: type = VoucherWorker):
    """A worker on the app's queue (RQ_QUEUE), sweeping every JOB_SWEEP_SECONDS."""
    from rq import Queue

    connection = runner.redis_connection(app)
    every = max(5, int(app.config.get("JOB_SWEEP_SECONDS", 60)))
    queue = Queue(queue_name or app.config.get("RQ_QUEUE") or "vouchers", connection=connection)
    # RQ waits for a job up to worker_ttl - 15 s, and looks at its maintenance only between
    # two waits: a short wait makes the sweep run on time on an idle worker.
    worker = worker_class([queue], connection=connection, maintenance_interval=every,
                          worker_ttl=every + 15)
    worker.app = app
    worker.send_mail = send_mail
    return worker
