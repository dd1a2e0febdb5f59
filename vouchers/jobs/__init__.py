"""Long work off the request path: files made by jobs, on RQ or in the web process.

- kinds.py: what a job can be (the registry); file_kinds.py: the app's kinds.
- service.py: asking for a job and retrying one (called by views; never commits).
- runner.py: running a job, after its request commits: on RQ when REDIS_URL is set, else on
  a few threads of the web process; the same function and the same Job row either way.
- sweep.py: expired files removed, lost jobs given up; worker.py: the RQ worker.

Who may see a job is vouchers/policy_jobs.py's (re-exported by vouchers/policy.py).
"""

from .service import retry, shown_state, submit

__all__ = ["retry", "shown_state", "submit"]
