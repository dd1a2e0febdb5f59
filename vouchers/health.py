"""/healthz: what a load balancer asks before sending this instance any traffic.

200 when the database answers, its schema is at the head of migrations/versions and the
job queue answers (Redis when REDIS_URL is set; "in-process" without it); 503 naming what
failed otherwise. Anyone may ask, so the answer says only ok/failed and the revisions:
never an address, a password or an error text (those go to the log).
"""

from __future__ import annotations

import logging
import os
from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify

from . import policy
from .boundary import route
from .extensions import db

bp = Blueprint("health", __name__)

OK, FAILED = "ok", "failed"
IN_PROCESS = "in-process"
# A load balancer asks every few seconds: a dead Redis must answer "failed" quickly.
REDIS_TIMEOUT_SECONDS = 2
# Alembic's MigrationContext announces its dialect at INFO each time one is made: two lines
# per health check. Quiet here; `flask db upgrade` configures logging anew (migrations/
# env.py), which sets this logger back, so an upgrade still says what it runs.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


@cache
def _heads(directory: str) -> frozenset[str]:
    """The heads of the migrations this process's code was shipped with (read once)."""
    return frozenset(ScriptDirectory(directory).get_heads())


def _database() -> tuple[str, frozenset[str] | None]:
    """(ok/failed, the revisions the database is at)."""
    try:
        with db.engine.connect() as connection:
            revisions = frozenset(MigrationContext.configure(connection).get_current_heads())
        return OK, revisions
    except Exception:  # noqa: BLE001 - any failure means "not reachable"; logged
        current_app.logger.exception("health: the database does not answer")
        return FAILED, None


def _queue() -> str:
    url = current_app.config.get("REDIS_URL", os.environ.get("REDIS_URL", ""))
    if not url:
        return IN_PROCESS
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                             socket_timeout=REDIS_TIMEOUT_SECONDS).ping()
        return OK
    except (redis.RedisError, OSError, ValueError):
        current_app.logger.exception("health: the job queue (Redis) does not answer")
        return FAILED


def report() -> dict:
    """Each check's state, the names of those that failed, and the schema's revisions."""
    heads = _heads(current_app.extensions["migrate"].directory)
    database, revisions = _database()
    checks = {"database": database, "migrations": OK if revisions == heads else FAILED,
              "queue": _queue()}
    failed = [name for name, state in checks.items() if state == FAILED]
    return {"status": FAILED if failed else OK, "checks": checks, "failed": failed,
            "revision": ",".join(sorted(revisions)) if revisions is not None else None,
            "head": ",".join(sorted(heads))}


@route(bp, "/healthz", permission=policy.can_visit)
def healthz():
    state = report()
    response = jsonify(state)
    response.status_code = 200 if state["status"] == OK else 503
    # Always asked afresh: no proxy or browser may answer for this instance.
    response.headers["Cache-Control"] = "no-store"
    return response
