"""Jobs on RQ against the real Redis (127.0.0.1:6379): the same pages, a worker does the work.

Each test has a queue of its own and runs an in-process RQ worker in burst mode (it works
the queue empty, then returns), so nothing runs behind the test's back. Skipped when Redis
does not answer, unless REQUIRE_REDIS=1 says it must be there.
"""

from __future__ import annotations

import io
import os
from datetime import timedelta
from uuid import uuid4

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from tests.helpers import login
from tests.jobs_support import job_path
from tests.test_jobs import _members
from vouchers.extensions import db
from vouchers.jobs import runner as job_runner
from vouchers.jobs.worker import Sweeping, make_worker
from vouchers.models import Job, OutboxMessage
from vouchers.services import outbox
from vouchers.services.workbook import WorkbookFilters, budget_export, generated_by

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_or_skip():
    from redis import Redis
    from redis.exceptions import RedisError

    connection = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except RedisError as exc:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but Redis does not answer at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis does not answer at {REDIS_URL} ({exc.__class__.__name__}); "
                    "set REQUIRE_REDIS=1 to make this a failure")
    return connection


@pytest.fixture
def rq_app(app, monkeypatch):
    """The app with REDIS_URL set and a queue of this test's own; emptied afterwards."""
    connection = _redis_or_skip()
    name = f"vouchers-test-{uuid4().hex[:12]}"
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "RQ_QUEUE", name)
    queue = Queue(name, connection=connection)
    yield app, queue
    queue.delete(delete_jobs=True)


def _work(queue: Queue) -> None:
    SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _reread() -> None:
    """End the test's read transaction: it would keep seeing the database as it began."""
    db.session.rollback()


def test_the_workbook_is_made_by_the_worker(rq_app, client, make):
    app, queue = rq_app
    call, manager = make.call(), make.manager()
    make.application("awarded", call.voucher_type("travel"), manager=manager)
    db.session.commit()
    login(client, manager)
    location = job_path(client.post(f"/manage/calls/{call.id}/workbook.xlsx"))
    _reread()
    job = db.session.scalar(select(Job))
    # Waiting for the worker: on the queue under the id the row names (next to the mail
    # the factories queued, which the same commits enqueued).
    assert job.state == "queued" and job.queue_id.startswith(f"vouchers-job-{job.id}-")
    assert job.queue_id in queue.job_ids
    page = client.get(location).get_data(as_text=True)
    assert "Waiting to start" in page and '<meta http-equiv="refresh"' in page
    _work(queue)
    _reread()
    assert job.state == "done" and job.attempts == 1
    assert "Ready" in client.get(location).get_data(as_text=True)
    with client.get(f"{location}/download") as download:
        assert download.status_code == 200
        data = download.data
    expected = io.BytesIO()
    with budget_export(call, WorkbookFilters()) as export:
        export.write(expected, generated_by=generated_by(manager), now=job.started_at)
    assert _members(data) == _members(expected.getvalue())


def test_a_failure_on_the_worker_is_shown_and_retried_through_the_queue(rq_app, client,
                                                                        make):
    app, queue = rq_app
    from tests.test_jobs import FAILURES
    from vouchers.jobs import service
    from vouchers.services.errors import InvalidInput

    manager = make.manager()
    FAILURES[:] = [InvalidInput("The bank's file service is down.")]
    job = service.submit("test_failing_once", {}, title="Flaky", user=manager)
    db.session.commit()
    _work(queue)
    login(client, manager)
    page = client.get(f"/manage/files/{job.id}").get_data(as_text=True)
    assert "The file could not be made: The bank&#39;s file service is down." in page
    first_queue_id = job.queue_id
    assert client.post(f"/manage/files/{job.id}/retry").status_code == 303
    _reread()
    assert job.state == "queued" and job.queue_id != first_queue_id
    _work(queue)
    _reread()
    assert job.state == "done" and job.attempts == 2


def test_an_unreachable_redis_fails_the_job_with_the_reason(rq_app, client, make,
                                                           monkeypatch):
    app, queue = rq_app
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    call, manager = make.call(), make.manager()
    login(client, manager)
    location = job_path(client.post(f"/manage/calls/{call.id}/workbook.xlsx"))
    page = client.get(location).get_data(as_text=True)
    assert "Failed" in page and "The job queue (Redis) did not answer" in page
    assert "Retry" in page


def test_queued_mail_is_sent_by_the_worker_after_the_commit(rq_app, make):
    app, queue = rq_app
    user = make.applicant()
    db.session.commit()
    outbox.queue("password_changed", to=user)
    assert queue.count == 0  # not before the commit: a rollback would send nothing
    db.session.commit()
    assert queue.count == 1
    # A second commit while that job waits adds no job: the waiting one sends both.
    outbox.queue("password_changed", to=make.applicant())
    db.session.commit()
    assert queue.count == 1
    _work(queue)
    _reread()
    assert list(db.session.scalars(select(OutboxMessage.status))) == ["sent", "sent"]


def test_a_rolled_back_transaction_enqueues_nothing(rq_app, make):
    app, queue = rq_app
    user = make.applicant()
    db.session.commit()
    outbox.queue("password_changed", to=user)
    db.session.rollback()
    db.session.commit()
    assert queue.count == 0


class _SweepingSimpleWorker(Sweeping, SimpleWorker):
    """The app's worker without the fork, so the test sees what it does."""


def test_the_worker_sweeps_expired_files_and_sends_mail_that_came_due(rq_app, make):
    app, queue = rq_app
    from tests.matrix_cases_jobs import finished_job

    manager = make.manager()
    job = finished_job(manager, params={"call_id": make.call().id})
    job.expires_at = job.finished_at - timedelta(seconds=1)
    # Mail queued while no worker listened (Redis set only now): the sweep picks it up.
    app.config["REDIS_URL"] = ""
    outbox.queue("password_changed", to=manager)
    db.session.commit()
    app.config["REDIS_URL"] = REDIS_URL
    worker = make_worker(app, queue_name=queue.name, worker_class=_SweepingSimpleWorker)
    worker.work(burst=True)
    _reread()
    assert job.state == "expired" and job.file_path == ""
    assert db.session.scalar(select(OutboxMessage.status)) == "sent"
    assert job_runner.uses_redis(app)
