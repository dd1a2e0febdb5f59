"""A job's page, its file and its retry; "My files", the jobs a manager asked for.

The downloads that take long (the workbook, partner reports, SEPA files) queue a job and
come here (vouchers/jobs/): the page shows how far it is and refreshes itself while the
work goes on (a meta refresh: no script needed), then offers the file until it expires.
A failed job says why and offers to try again. Each of these is its requester's alone
(policy.can_see_job): anyone else gets a 404.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_login import current_user

from .. import policy
from ..boundary import by_id, route, see_other
from ..jobs import kinds, service
from ..jobs.runner import file_of
from ..models import Job
from ..navigation import nav_item
from .blueprint import bp
from .forms import ButtonForm

nav_item("manager", lazy_gettext("My files"), "manager.my_files", order=97)

JOB = {"job": by_id(Job)}
# Seconds between two refreshes of a page whose job is under way.
REFRESH_SECONDS = 2


def _duration(seconds: int) -> str:
    """How long files are kept, as the page says it: "24 hours", "90 minutes"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0 and not (unit == "day" and seconds < 3 * size):
            n = seconds // size
            if unit == "day":
                return ngettext("%(num)s day", "%(num)s days", n)
            if unit == "hour":
                return ngettext("%(num)s hour", "%(num)s hours", n)
            return ngettext("%(num)s minute", "%(num)s minutes", n)
    return ngettext("%(num)s second", "%(num)s seconds", seconds)


def _job_page(job: Job, form=None, error: str | None = None):
    state = service.shown_state(job)
    spec = kinds.get(job.kind)
    endpoint, args = spec.origin(job.params) if spec else (None, {})
    page = render_template(
        "manager/jobs_job.html", job=job, state=state, error=error,
        refresh=REFRESH_SECONDS if state in ("queued", "running") else None,
        origin=url_for(endpoint, **args) if endpoint else None,
        keep_for=_duration(int(current_app.config.get("JOB_FILE_SECONDS", 86400))),
        retry_form=form or ButtonForm(formdata=None))
    # The page changes while the job runs: never from a cache.
    return page, {"Cache-Control": "no-store"}


@route(bp, "/files", permission=policy.can_list_jobs)
def my_files():
    return render_template("manager/jobs.html", jobs=service.jobs_of(current_user),
                           shown_state=service.shown_state)


@route(bp, "/files/<int:job_id>", permission=policy.can_see_job, load=JOB)
def job(job: Job):
    return _job_page(job)


@route(bp, "/files/<int:job_id>/download", permission=policy.can_see_job, load=JOB)
def job_file(job: Job):
    path = file_of(job)
    if service.shown_state(job) != "done" or path is None or not path.is_file():
        flash(_("This file is not available: see below."), "error")
        return redirect(url_for("manager.job", job_id=job.id))
    response = send_file(path, mimetype=job.mimetype, as_attachment=True,
                         download_name=job.filename)
    # Payments to named SMEs, a funder's figures: not for a shared cache or the browser's.
    response.cache_control.no_cache = None
    response.cache_control.no_store = True
    return response


@route(bp, "/files/<int:job_id>/retry", methods=("POST",), load=JOB,
       permission=policy.can_retry_job, form=ButtonForm,
       render=lambda job, form=None, error=None: _job_page(job, form, error))
def retry_job(form: ButtonForm, job: Job):
    service.retry(job, current_user)
    flash(_("The file is being made again."), "success")
    return see_other("manager.job", job_id=job.id)
