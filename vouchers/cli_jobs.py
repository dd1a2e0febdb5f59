"""`flask --app vouchers worker` and `flask --app vouchers jobs-expire` (vouchers/jobs/).

``worker`` runs an RQ worker on RQ_QUEUE of REDIS_URL: it makes the files the pages ask
for, sends the mail queued (and the mail due again after a failed attempt) and sweeps
expired files every JOB_SWEEP_SECONDS. Without REDIS_URL there is nothing for it to do:
the web process runs the jobs itself, so it says so and stops (exit code 2).

``jobs-expire`` removes the files past JOB_FILE_SECONDS and gives up jobs whose worker
died; the worker and the in-process runner do it too, so cron needs it only when neither
runs for long stretches.
"""

from __future__ import annotations

import click
from flask import current_app


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (for scripts).")
@click.option("--queue", "queue_name", metavar="NAME",
              help="The queue to work on (default: RQ_QUEUE, else 'vouchers').")
def worker_command(burst: bool, queue_name: str | None):
    """Run a worker for the jobs and the mail (needs REDIS_URL)."""
    from redis.exceptions import RedisError

    from .cli_mail import _settings_problem
    from .jobs.worker import make_worker

    config = current_app.config
    if not config.get("REDIS_URL"):
        click.echo("REDIS_URL is not set: jobs run inside the web process and mail is sent "
                   "by `send-mail --loop`, so no worker is needed.", err=True)
        raise SystemExit(2)
    problem = _settings_problem()  # the mail settings, checked as send-mail checks them
    if problem:
        click.echo(f"Not starting: {problem}", err=True)
        raise SystemExit(2)
    worker = make_worker(current_app._get_current_object(), queue_name=queue_name)
    try:
        worker.connection.ping()
    except RedisError as exc:
        raise click.ClickException(f"Redis does not answer at {config['REDIS_URL']}: "
                                   f"{exc}") from exc
    click.echo(f"Worker on queue {worker.queue_names()[0]} of {config['REDIS_URL']}; "
               f"sweeping every {worker.maintenance_interval} s.", err=True)
    worker.work(burst=burst)


@click.command("jobs-expire")
def jobs_expire_command():
    """Remove expired job files and give up jobs whose worker died."""
    from .jobs.sweep import sweep

    click.echo(f"Jobs: {sweep()}.")
