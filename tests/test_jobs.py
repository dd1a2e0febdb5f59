"""Jobs without Redis (the default of `make run`): the web process's threads make the file.

Through the pages, as a manager meets them: the workbook asked for on the dashboard is made
by a job whose page shows its progress, then offers the very file the service writes; a job
that fails says why and its Retry works; an expired file is gone and the page says so; and
nobody but the requester (while still allowed) sees, downloads or retries it.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from tests.helpers import login, logout
from tests.jobs_support import follow_job, job_path
from vouchers.extensions import db
from vouchers.jobs import kinds, service
from vouchers.jobs import runner as job_runner
from vouchers.jobs.kinds import Made, kind
from vouchers.jobs.sweep import LOST_RUNNING, sweep
from vouchers.models import Job
from vouchers.services.errors import ConcurrentChange, InvalidInput
from vouchers.services.workbook import (
    WorkbookFilters,
    budget_export,
    generated_by,
    workbook_filename,
)


def _members(data: bytes) -> dict[str, bytes]:
    """An xlsx's parts, to compare two builds of one workbook: the zip entries carry the
    second they were written at, and openpyxl stamps the save's second as "modified" in
    docProps/core.xml; every other byte comes from the data and the builder."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["docProps/core.xml"] = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>",
                                        b"", parts["docProps/core.xml"])
    return parts


def _job(location: str) -> Job:
    db.session.expire_all()
    return db.session.get(Job, int(location.rsplit("/", 1)[1]))


def _page(client, location: str) -> str:
    response = client.get(location)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    return response.get_data(as_text=True)


@pytest.fixture
def call_with_vouchers(make):
    call = make.call()
    manager = make.manager()
    for state in ("submitted", "awarded", "rejected"):
        make.application(state, call.voucher_type("travel"), manager=manager)
    db.session.commit()
    return call, manager


# --- kinds only these tests use: one that waits for the test, one that fails once -------

RELEASE, REPORTED = threading.Event(), threading.Event()
FAILURES: list[Exception] = []


@kind("test_waiting", permits=lambda user, p: user.role == "manager",
      origin=lambda p: ("manager.my_files", {}))
def _waiting(run, target):
    run.progress(40, "Halfway through the test")
    REPORTED.set()
    assert RELEASE.wait(30), "the test never released the job"
    target.write(b"waited")
    return Made("waited.txt", "text/plain")


@kind("test_failing_once", permits=lambda user, p: user.role == "manager",
      origin=lambda p: ("manager.my_files", {}))
def _failing_once(run, target):
    if FAILURES:
        raise FAILURES.pop(0)
    target.write(b"made at last")
    return Made("at-last.txt", "text/plain")


def _submit(kind_name: str, user) -> Job:
    job = service.submit(kind_name, {}, title=f"A {kind_name} file", user=user)
    db.session.commit()  # the job starts once its transaction has committed
    return job


# --- the workbook, from the dashboard to the file ----------------------------------------


def test_the_workbook_job_makes_the_services_file(app, client, call_with_vouchers):
    call, manager = call_with_vouchers
    login(client, manager)
    response = client.post(f"/manage/calls/{call.id}/workbook.xlsx", data={"type": "travel"})
    location = job_path(response)
    job_runner.drain(app)
    page = _page(client, location)
    job = _job(location)
    assert job.state == "done" and job.progress == 100 and job.attempts == 1
    assert f"Budget workbook of {call.code} (filtered)" in page and "Ready" in page
    assert 'http-equiv="refresh"' not in page  # nothing under way: no more refreshing
    filters = WorkbookFilters(voucher_types=("travel",))
    name = workbook_filename(call, job.started_at, filters)
    assert f"Download {name}" in page
    with client.get(f"{location}/download") as download:
        assert download.status_code == 200 and "no-store" in download.headers["Cache-Control"]
        assert download.headers["Content-Disposition"] == f"attachment; filename={name}"
        data = download.data
    expected = io.BytesIO()
    with budget_export(call, filters) as export:
        export.write(expected, generated_by=generated_by(manager), now=job.started_at)
    assert _members(data) == _members(expected.getvalue())
    files = _page(client, "/manage/files")
    assert f'href="{location}"' in files and f'href="{location}/download"' in files


def test_the_page_shows_progress_and_refreshes_while_the_job_runs(app, client, make):
    manager = make.manager()
    RELEASE.clear(), REPORTED.clear()
    job = _submit("test_waiting", manager)
    location = f"/manage/files/{job.id}"
    login(client, manager)
    try:
        assert REPORTED.wait(30)
        page = _page(client, location)
        assert "Being made" in page and "Halfway through the test" in page
        assert '<progress id="job-progress" max="100" value="40">' in page
        assert '<meta http-equiv="refresh" content="2">' in page
        assert "/download" not in page
        assert "Being made (40%)" in _page(client, "/manage/files")
    finally:
        RELEASE.set()
        job_runner.drain(app)
    page = _page(client, location)
    assert "Ready" in page and 'http-equiv="refresh"' not in page
    with client.get(f"{location}/download") as download:
        assert download.data == b"waited"


def test_a_failed_job_says_why_and_retry_makes_the_file(app, client, make):
    manager = make.manager()
    FAILURES[:] = [InvalidInput("The ledger is being closed; try again in a minute.")]
    job = _submit("test_failing_once", manager)
    job_runner.drain(app)
    login(client, manager)
    location = f"/manage/files/{job.id}"
    page = _page(client, location)
    assert "Failed" in page
    assert "The file could not be made: The ledger is being closed; try again in a minute." in page
    assert f'action="{location}/retry"' in page and "/download" not in page
    download = client.get(f"{location}/download")
    assert download.status_code == 302 and download.headers["Location"].endswith(location)
    retried = client.post(f"{location}/retry")
    assert retried.status_code == 303 and retried.headers["Location"].endswith(location)
    job_runner.drain(app)
    assert _job(location).state == "done" and _job(location).attempts == 2
    with client.get(f"{location}/download") as download:
        assert download.data == b"made at last"
    # Nothing to retry any more: said on the page, and nothing changes.
    again = client.post(f"{location}/retry")
    assert again.status_code == 422 and "This file is ready: download it." in again.get_data(
        as_text=True)
    assert _job(location).attempts == 2


def test_of_two_retries_at_once_one_queues_the_job(app, make):
    manager = make.manager()
    FAILURES[:] = [InvalidInput("Not yet.")]
    job = _submit("test_failing_once", manager)
    job_runner.drain(app)
    db.session.expire_all()
    assert job.state == "failed"  # as the second click's page loaded it
    with db.engine.begin() as conn:  # the first click's request, committed meanwhile
        conn.execute(db.update(Job).where(Job.id == job.id).values(state="queued"))
    with pytest.raises(ConcurrentChange):
        service.retry(job, manager)
    db.session.rollback()
    assert db.session.get(Job, job.id).state == "queued"


def test_an_unexpected_error_is_logged_and_the_page_says_to_retry(app, client, make, caplog):
    manager = make.manager()
    FAILURES[:] = [ZeroDivisionError("a bug")]
    job = _submit("test_failing_once", manager)
    job_runner.drain(app)
    login(client, manager)
    page = _page(client, f"/manage/files/{job.id}")
    assert job_runner.UNEXPECTED in page and "ZeroDivisionError" not in page
    assert any("ZeroDivisionError" in (r.exc_text or "") for r in caplog.records)
    assert not list(Path(current_app.config["JOBS_FOLDER"]).glob(f".{job.id}-*.part"))


# --- expiry ------------------------------------------------------------------------------


def test_an_expired_file_is_removed_and_the_page_says_so(app, client, call_with_vouchers):
    call, manager = call_with_vouchers
    login(client, manager)
    location = job_path(client.post(f"/manage/calls/{call.id}/workbook.xlsx"))
    job_runner.drain(app)
    job = _job(location)
    path = Path(current_app.config["JOBS_FOLDER"]) / job.file_path
    assert path.is_file() and path.stat().st_size == job.size
    assert job.expires_at - job.finished_at == timedelta(seconds=24 * 3600)
    assert sweep(job.expires_at - timedelta(seconds=1)).expired == 0 and path.is_file()
    assert sweep(job.expires_at).expired == 1
    assert not path.exists() and _job(location).state == "expired"
    page = _page(client, location)
    assert "This file has expired: files are kept 24 hours" in page and "/download" not in page
    refused = client.get(f"{location}/download")
    assert refused.status_code == 302 and refused.headers["Location"].endswith(location)
    # "Make it again": a new attempt, a new file.
    assert "Make it again" in page
    with follow_job(client, client.post(f"{location}/retry")) as download:
        assert download.status_code == 200 and download.data[:2] == b"PK"


def test_a_file_past_its_time_is_not_offered_before_the_sweep(app, client, call_with_vouchers,
                                                              monkeypatch):
    call, manager = call_with_vouchers
    monkeypatch.setitem(app.config, "JOB_FILE_SECONDS", 0)
    login(client, manager)
    location = job_path(client.post(f"/manage/calls/{call.id}/workbook.xlsx"))
    job_runner.drain(app)
    # The in-process runner swept after the job: the file has gone at once.
    assert _job(location).state == "expired"
    assert "This file has expired" in _page(client, location)


def test_a_job_whose_worker_died_is_given_up(app, client, make):
    manager = make.manager()
    job = _submit("test_failing_once", manager)
    job_runner.drain(app)
    # As a worker killed while running leaves it:
    db.session.execute(db.update(Job).where(Job.id == job.id).values(
        state="running", file_path="", started_at=Job.created_at))
    db.session.commit()
    assert sweep(job.created_at + timedelta(seconds=1800 - 1)).lost == 0
    assert sweep(job.created_at + timedelta(seconds=1801)).lost == 1
    login(client, manager)
    assert LOST_RUNNING in _page(client, f"/manage/files/{job.id}")


# --- who sees a job ----------------------------------------------------------------------


def test_only_the_requester_sees_downloads_and_retries_a_job(app, client, make,
                                                            call_with_vouchers):
    call, manager = call_with_vouchers
    login(client, manager)
    location = job_path(client.post(f"/manage/calls/{call.id}/workbook.xlsx"))
    job_runner.drain(app)
    for other in (make.manager(), make.applicant(), make.evaluator()):
        logout(client)
        login(client, other)
        for url in (location, f"{location}/download"):
            assert client.get(url).status_code == 404, (other.role, url)
        assert client.post(f"{location}/retry").status_code == 404
        if other.role == "manager":
            assert location not in _page(client, "/manage/files")
    logout(client)
    anonymous = client.get(location)
    assert anonymous.status_code == 302 and "/account/login" in anonymous.headers["Location"]


def test_a_requester_who_lost_the_permission_loses_the_job(app, client, make,
                                                          call_with_vouchers):
    call, manager = call_with_vouchers
    login(client, manager)
    location = job_path(client.post(f"/manage/calls/{call.id}/workbook.xlsx"))
    job_runner.drain(app)
    # Moved to a partner that is not the lead: the programme's workbook is not theirs now.
    partner = make.partner(call.programme, "West Agency", "NL", "EUR",
                           regions=[("NL", "North Brabant", "NL41")])
    manager.partner_id = partner.id
    db.session.commit()
    assert client.get(location).status_code == 404
    assert client.get(f"{location}/download").status_code == 404
    assert location not in _page(client, "/manage/files")


def test_a_job_is_refused_at_run_time_when_the_permission_went_meanwhile(app, make):
    manager = make.manager()
    job = service.submit("test_failing_once", {}, title="Will not run", user=manager)
    manager.role = "evaluator"
    db.session.commit()
    job_runner.drain(app)
    db.session.expire_all()
    assert job.state == "failed" and job.message == job_runner.NO_LONGER_ALLOWED


def test_bad_filters_queue_nothing_and_an_unknown_kind_is_refused(app, make, client):
    call = make.call()
    login(client, make.manager())
    response = client.post(f"/manage/calls/{call.id}/workbook.xlsx",
                           data={"from": "2026-03-01", "to": "2026-02-01"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    with pytest.raises(InvalidInput):
        service.submit("no_such_kind", {}, title="x", user=make.manager())
    assert kinds.get("no_such_kind") is None


# --- the commands ------------------------------------------------------------------------


def test_jobs_expire_and_worker_commands(app, runner, call_with_vouchers, client):
    call, manager = call_with_vouchers
    login(client, manager)
    location = job_path(client.post(f"/manage/calls/{call.id}/workbook.xlsx"))
    job_runner.drain(app)
    db.session.execute(db.update(Job).where(Job.id == _job(location).id).values(
        expires_at=Job.finished_at))
    db.session.commit()
    result = runner.invoke(args=["jobs-expire"])
    assert result.exit_code == 0 and "Jobs: expired 1, given up 0." in result.output
    assert _job(location).state == "expired"
    worker = runner.invoke(args=["worker"])
    assert worker.exit_code == 2 and "REDIS_URL is not set" in worker.output
