"""The permissions of jobs (vouchers/jobs/): a file made off the request path.

Part of vouchers/policy.py, kept apart for size: that module re-exports every ``can_*``
here, and only it imports this.

A job's page, its file and its retry are its requester's alone, and only while they may
still have that kind of file (the workbook needs can_run_programme, a partner report its
partner's reach...): a manager moved to another partner, or disabled, loses the files they
asked for before. Everyone else gets a 404, like for any object they may not see.
"""

from __future__ import annotations

from typing import Any

from .policy import can_manage


def can_see_job(user: Any, job: Any = None) -> bool:
    from .jobs import kinds

    if job is None or not can_manage(user):
        return False
    return job.requested_by_id == user.id and kinds.permits(user, job)


def can_retry_job(user: Any, job: Any = None) -> bool:
    """Whether it needs a retry (it failed, or its file expired) is the service's to say,
    with a message, not a reason to hide the page."""
    return can_see_job(user, job)


def can_list_jobs(user: Any, obj: Any = None) -> bool:
    """"My files": the files a manager asked for (only managers ask for any)."""
    return can_manage(user)
