"""Alembic's migrations build exactly the schema the models describe."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import (
    POSTGRES_DEFAULT,
    migrated_app,
    postgres_database,
    postgres_reachable,
)
from vouchers.extensions import db
from vouchers.search import outside_the_models

PG_REASON = postgres_reachable()
SKIP_PG = bool(PG_REASON) and os.environ.get("REQUIRE_POSTGRES") != "1"


EXPRESSION_INDEXES = {"uq_users_email_lower"}


def _described_by_models(_obj, name, type_, reflected, _compare_to):
    # The search indexes (SQLite's FTS5 tables, PostgreSQL's pg_trgm indexes) exist only in
    # migration 0011: no model can declare them. tests/test_search_index.py checks them.
    return not (reflected and outside_the_models(name, type_))


def _assert_no_difference(app):
    with app.app_context(), db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        # Alembic cannot compare expression indexes on SQLite; they are checked by name.
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "include_object": _described_by_models})
        diff = compare_metadata(context, db.metadata)
        assert diff == [], diff
        tables = set(inspect(conn).get_table_names())
        if sqlite:
            indexes = set(conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
            assert indexes >= EXPRESSION_INDEXES
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    with app.app_context():
        db.engine.dispose()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
def test_sqlite_upgrade_to_head_matches_the_models(tmp_path):
    app = migrated_app("sqlite:///" + str(tmp_path / "m.db"), str(tmp_path / "instance"))
    _assert_no_difference(app)


@pytest.mark.skipif(SKIP_PG, reason=PG_REASON or "")
def test_postgresql_upgrade_to_head_matches_the_models(tmp_path):
    with postgres_database(POSTGRES_DEFAULT, "migrate") as url:
        app = migrated_app(url, str(tmp_path / "instance"))
        _assert_no_difference(app)


def test_sqlite_migrations_go_down_and_up_and_leave_foreign_keys_enforced(tmp_path):
    from flask_migrate import downgrade, upgrade

    app = migrated_app("sqlite:///" + str(tmp_path / "m.db"), str(tmp_path / "instance"))
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()
