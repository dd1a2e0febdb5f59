"""/healthz tells a load balancer whether this instance can serve: the database answers,
its schema is at the migrations' head, and the job queue answers."""

from __future__ import annotations

import os

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import stamp

from tests.conftest import POSTGRES_DEFAULT, migrated_app, postgres_database, postgres_reachable
from vouchers import create_app
from vouchers.extensions import db

PG_REASON = postgres_reachable()
SKIP_PG = bool(PG_REASON) and os.environ.get("REQUIRE_POSTGRES") != "1"
# Port 1 on the loopback: nothing listens there, so a connection is refused at once.
CLOSED_REDIS = "redis://127.0.0.1:1/0"
CLOSED_POSTGRES = "postgresql+psycopg://healthz:secret-password@127.0.0.1:1/nothing"


def head_revision(app) -> str:
    return ScriptDirectory(app.extensions["migrate"].directory).get_current_head()


@pytest.fixture(params=["sqlite", pytest.param(
    "postgresql", marks=pytest.mark.skipif(SKIP_PG, reason=PG_REASON or ""))])
def fresh_app(request, tmp_path):
    """An app over a database of its own, migrated to head, SQLite or PostgreSQL."""
    def build(url):
        app = migrated_app(url, str(tmp_path / "instance"), REDIS_URL="")
        yield app
        with app.app_context():
            db.engine.dispose()

    if request.param == "sqlite":
        yield from build("sqlite:///" + str(tmp_path / "health.db"))
        return
    with postgres_database(POSTGRES_DEFAULT, "health") as url:
        yield from build(url)


def test_a_migrated_database_without_redis_is_healthy(fresh_app):
    response = fresh_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok", "failed": [],
        "checks": {"database": "ok", "migrations": "ok", "queue": "in-process"},
        "revision": head_revision(fresh_app), "head": head_revision(fresh_app)}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_database_behind_the_head_answers_503_naming_the_migrations(fresh_app):
    # Recorded one revision behind, as after deploying code whose migration has not run.
    directory = ScriptDirectory(fresh_app.extensions["migrate"].directory)
    with fresh_app.app_context():
        stamp(revision=directory.get_revision(head_revision(fresh_app)).down_revision)
    response = fresh_app.test_client().get("/healthz")
    report = response.get_json()
    assert response.status_code == 503
    assert report["failed"] == ["migrations"]
    assert report["checks"]["database"] == "ok"
    assert report["revision"] != report["head"] == head_revision(fresh_app)


def test_a_database_never_migrated_answers_503(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "empty.db"),
                      "SECRET_KEY": "x" * 32, "REDIS_URL": ""})
    report = app.test_client().get("/healthz").get_json()
    assert report["failed"] == ["migrations"] and report["revision"] == ""


def test_a_queue_that_does_not_answer_answers_503_naming_the_queue(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", CLOSED_REDIS)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["queue"]
    assert response.get_json()["checks"] == {"database": "ok", "migrations": "ok",
                                             "queue": "failed"}


def test_a_redis_that_answers_is_a_healthy_queue(app, client, monkeypatch):
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=2).ping()
    except redis.RedisError:
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/0")
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["queue"] == "ok"


def test_a_database_that_does_not_answer_is_reported_without_its_address(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": CLOSED_POSTGRES, "SECRET_KEY": "x" * 32,
                      "REDIS_URL": CLOSED_REDIS})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["failed"] == ["database", "migrations", "queue"]
    body = response.get_data(as_text=True)
    for secret in ("secret-password", "healthz", "127.0.0.1", "nothing"):
        assert secret not in body
