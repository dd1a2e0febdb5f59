"""What a job can be: the registry of kinds, and what a kind's function is handed.

A kind names a function that makes one file from the Job's params (ids and filters, never
objects) and the predicate that says who may have that file. The runner (runner.py) calls
the function in an app context with a ``JobRun`` and an open binary file; the function
writes the file, reports its progress and returns what the file is called. Whoever asked
for a job sees it, downloads it and retries it only while ``permits`` still says yes
(vouchers/policy_jobs.py), and the runner asks it again before the work starts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from ..models import User


@dataclass(frozen=True)
class Made:
    """What the kind's function made: the name the browser saves it under, and its type."""

    filename: str
    mimetype: str


@dataclass
class JobRun:
    """One run of a job, as its kind's function sees it."""

    job_id: int
    params: dict[str, Any]
    requested_by: User
    # When the run started: the moment the file says it was generated at.
    now: datetime
    report: Callable[[int, str], None] = field(repr=False)

    def progress(self, percent: int, step: str = "") -> None:
        """Say how far the work is (0-100) and, optionally, the step under way."""
        self.report(max(0, min(99, int(percent))), step)


@dataclass(frozen=True)
class Kind:
    name: str
    make: Callable[[JobRun, IO[bytes]], Made]
    # permits(user, params): may ``user`` have this job's file (and see the job)?
    permits: Callable[[Any, dict[str, Any]], bool]
    # Where the page offers to make one again when it has expired (an endpoint, its args).
    origin: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]


KINDS: dict[str, Kind] = {}


def kind(name: str, *, permits: Callable[[Any, dict[str, Any]], bool],
         origin: Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]):
    """Register the decorated function as the maker of the job kind ``name``."""

    def register(make: Callable[[JobRun, IO[bytes]], Made]):
        KINDS[name] = Kind(name, make, permits, origin)
        return make

    return register


def get(name: str) -> Kind | None:
    _load_builtin()
    return KINDS.get(name)


def permits(user: Any, job: Any) -> bool:
    """Whether ``user`` may still have ``job``'s kind of file (an unknown kind: nobody)."""
    spec = get(job.kind)
    return spec is not None and bool(spec.permits(user, job.params or {}))


def _load_builtin() -> None:
    # The app's kinds register themselves on import; imported late because they import
    # the services, which import the policy, which asks this module.
    from . import file_kinds  # noqa: F401
