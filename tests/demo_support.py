"""The demo programme loaded once for a module whose tests only read it.

Loading it takes seconds (hundreds of applications driven through the services); the
demo's money and consortium tests each read the same programme, so each module loads it
once. A module takes ``app``, ``demo`` and ``demo_loaded`` (as ``_demo_loaded``) from here
in place of the per-test ``app`` of tests/conftest.py, which empties the tables before every
test.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import _empty_all_tables
from vouchers.demo import load_demo
from vouchers.extensions import db
from vouchers.models import Call


@pytest.fixture(scope="module")
def demo_loaded(_app):
    with _app.app_context():
        _empty_all_tables()
        load_demo()
        db.session.commit()
        db.session.remove()
    yield
    with _app.app_context():
        _empty_all_tables()


@pytest.fixture
def app(_app, _demo_loaded):
    """The app over the module's demo programme (left as it is between its tests)."""
    settings = dict(_app.config)
    with _app.app_context():
        yield _app
        db.session.rollback()
        db.session.remove()
    _app.config.clear()
    _app.config.update(settings)


@pytest.fixture
def demo(app) -> Call:
    return db.session.scalar(select(Call).order_by(Call.id))
