"""Shared fixtures.

The database is SQLite (a file, so threads can share it) unless TEST_DATABASE_URL
points at PostgreSQL; `.ci/run` runs the suite both ways. Each pytest-xdist worker
gets its own database, migrated once with Alembic; each test starts from empty tables.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.factories import Factories
from tests.mail_server import deliver, smtp_server  # noqa: F401  (fixtures for every module)
from tests.memory_tmp import pytest_configure  # noqa: F401
from tests.skip_summary import pytest_terminal_summary, pytest_unconfigure  # noqa: F401
from vouchers import create_app
from vouchers.extensions import db

POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def postgres_reachable(url: str = POSTGRES_DEFAULT) -> str | None:
    """None if a PostgreSQL server answers at ``url``, else the reason it does not."""
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {url}: {exc.__class__.__name__}"


@contextmanager
def postgres_database(base_url: str, purpose: str) -> Iterator[str]:
    """A new, empty database on the server of ``base_url`` for this test run; dropped after.

    The name carries the run's id and the xdist worker, so two runs on one machine (a
    developer's and CI's) never share or drop each other's databases.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"{os.getpid():x}")[:10]
    name = f"vouchers_{purpose}_{run}_{_worker()}".lower()
    if not re.fullmatch(r"[a-z0-9_]{1,63}", name):
        raise ValueError(name)
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class RequestIsolatingClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    Flask reuses an app context that is already pushed, and the `app` fixture keeps
    one pushed for the test body; without this, requests would share the test's
    database session and `g`, and a view that forgets to commit would still pass.
    The test's own transaction ends first, so it sees what the request wrote.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


def migrated_app(database_url: str, instance_path: str, **config):
    os.environ["INSTANCE_PATH"] = instance_path
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_FOLDER": os.path.join(instance_path, "uploads"),
        **config,
    })
    app.test_client_class = RequestIsolatingClient
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
    return app


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        with postgres_database(url, "test") as test_url:
            yield test_url
        return
    yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    app = migrated_app(database_url, str(tmp_path_factory.mktemp("instance")))
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_all_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def app(_app):
    """The app, inside an app context, with empty tables before and after the test."""
    # A test that changes a setting (a secret key, a cache period) leaves it to the test
    # after it in the worker otherwise: the settings come back as they were.
    settings = dict(_app.config)
    with _app.app_context():
        _empty_all_tables()
        yield _app
        db.session.rollback()
        db.session.remove()
        _empty_all_tables()
    _app.config.clear()
    _app.config.update(settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app) -> Factories:
    """Factories for calls, users and applications in any state."""
    return Factories()


@pytest.fixture
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")
