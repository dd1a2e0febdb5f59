"""Twenty managers award at the same moment: the budget and the quota still hold.

Each thread has its own app context, so its own session and database connection; a
barrier releases them together. Run on SQLite (a file) and on PostgreSQL.
"""

from __future__ import annotations

import os
import threading
from contextlib import ExitStack
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import (
    POSTGRES_DEFAULT,
    migrated_app,
    postgres_database,
    postgres_reachable,
)
from tests.factories import Factories
from vouchers.extensions import db
from vouchers.models import Application, Assignment, AuditRecord, Call, CallVoucherType, User
from vouchers.services import transitions
from vouchers.services.assignment import auto_assign
from vouchers.services.errors import BudgetExceeded, DomainError, QuotaExceeded

THREADS = 20


def backends():
    """SQLite and PostgreSQL (skipped when no server answers, except in CI)."""
    yield pytest.param("sqlite", id="sqlite")
    reason = postgres_reachable()
    if reason and os.environ.get("REQUIRE_POSTGRES") == "1":
        # CI must never skip the PostgreSQL run.
        yield pytest.param("postgresql", id="postgresql")
    else:
        yield pytest.param("postgresql", id="postgresql",
                           marks=pytest.mark.skipif(bool(reason), reason=reason or ""))


@pytest.fixture(params=list(backends()))
def concurrent_app(request, tmp_path):
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = "sqlite:///" + str(tmp_path / "concurrency.db")
        else:
            url = stack.enter_context(postgres_database(POSTGRES_DEFAULT, "race"))
        # A connection per thread: a smaller pool would queue threads behind the barrier.
        app = migrated_app(url, str(tmp_path / "instance"), SQLALCHEMY_ENGINE_OPTIONS={
            "pool_size": THREADS + 2, "max_overflow": 0})
        yield app
        with app.app_context():
            db.engine.dispose()


def _race(app, application_ids, manager_id, amount):
    """Award every application from its own thread at once; return the outcomes."""
    barrier = threading.Barrier(len(application_ids))
    outcomes: list[str] = []
    lock = threading.Lock()

    def award(application_id):
        with app.app_context():
            try:
                application = db.session.get(Application, application_id)
                manager = db.session.get(User, manager_id)
                barrier.wait(timeout=30)
                transitions.award(application, manager, amount)
                db.session.commit()
                outcome = "awarded"
            except BudgetExceeded:
                outcome = "budget"
            except QuotaExceeded:
                outcome = "quota"
            except Exception as exc:  # noqa: BLE001 - reported in the assertion below
                outcome = f"error: {exc!r}"
            finally:
                db.session.rollback()
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=award, args=(i,)) for i in application_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def _prepare(app, types):
    with app.app_context():
        make = Factories()
        cvt = make.call(types).voucher_type("travel")
        manager = make.manager()
        ids = [make.application("under_review", cvt, manager=manager).id for _ in range(THREADS)]
        return cvt.id, manager.id, ids


def _committed(app, cvt_id):
    with app.app_context():
        cvt = db.session.get(CallVoucherType, cvt_id)
        awarded = db.session.execute(
            select(func.count(), func.coalesce(func.sum(Application.awarded_amount), 0))
            .where(Application.call_voucher_type_id == cvt_id, Application.state == "awarded")
        ).one()
        return cvt.committed, cvt.awarded_count, awarded[0], awarded[1]


def test_envelope_holds_when_twenty_managers_award_at_once(concurrent_app):
    # Room for 7 awards of 1,000 in the envelope; the quota is not the limit.
    cvt_id, manager_id, ids = _prepare(concurrent_app,
                                       {"travel": (50, "5000", "1.00", "7500")})
    outcomes = _race(concurrent_app, ids, manager_id, "1000")
    assert sorted(outcomes) == ["awarded"] * 7 + ["budget"] * 13, outcomes
    committed, count, awarded_rows, awarded_sum = _committed(concurrent_app, cvt_id)
    assert committed == awarded_sum == Decimal("7000.00")
    assert count == awarded_rows == 7


def test_quota_holds_when_twenty_managers_award_at_once(concurrent_app):
    # Room for 7 vouchers in the quota; the envelope is not the limit.
    cvt_id, manager_id, ids = _prepare(concurrent_app,
                                       {"travel": (7, "5000", "1.00", "1000000")})
    outcomes = _race(concurrent_app, ids, manager_id, "1000")
    assert sorted(outcomes) == ["awarded"] * 7 + ["quota"] * 13, outcomes
    committed, count, awarded_rows, awarded_sum = _committed(concurrent_app, cvt_id)
    assert committed == awarded_sum == Decimal("7000.00")
    assert count == awarded_rows == 7


def test_applicants_starting_drafts_at_once_get_distinct_references(concurrent_app):
    with concurrent_app.app_context():
        make = Factories()
        cvt_id = make.call().voucher_type("travel").id
        applicant_ids = [make.applicant().id for _ in range(10)]
    barrier = threading.Barrier(len(applicant_ids))
    references: list[str] = []
    errors: list[str] = []

    def start_draft(applicant_id):
        with concurrent_app.app_context():
            try:
                applicant = db.session.get(User, applicant_id)
                cvt = db.session.get(CallVoucherType, cvt_id)
                barrier.wait(timeout=30)
                application = transitions.create_draft(applicant, cvt, title="Trade mission")
                db.session.commit()
                references.append(application.reference)
            except Exception as exc:  # noqa: BLE001 - reported in the assertion below
                errors.append(repr(exc))
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=start_draft, args=(i,)) for i in applicant_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(references) == [f"C1-TR-{n:05d}" for n in range(1, 11)]


def test_managers_assigning_evaluators_at_once_never_overfill_an_application(concurrent_app):
    """Four managers run the automatic assignment together: whoever comes second finds the
    work done (SQLite, serialised) or is refused whole (PostgreSQL); never more than N."""
    with concurrent_app.app_context():
        make = Factories()
        call = make.call()
        call_id = call.id
        application_ids = [make.application("submitted", call.voucher_type("travel")).id
                           for _ in range(5)]
        for _ in range(4):
            make.evaluator()
        manager_ids = [make.manager().id for _ in range(4)]
    barrier = threading.Barrier(len(manager_ids))
    errors: list[str] = []

    def assign(manager_id):
        with concurrent_app.app_context():
            try:
                call = db.session.get(Call, call_id)
                manager = db.session.get(User, manager_id)
                barrier.wait(timeout=30)
                auto_assign(call, 2, manager)
                db.session.commit()
            except DomainError:
                pass  # refused whole; the invariants below say nothing was half-written
            except Exception as exc:  # noqa: BLE001 - reported in the assertion below
                errors.append(repr(exc))
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=assign, args=(i,)) for i in manager_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with concurrent_app.app_context():
        per_application = dict(db.session.execute(
            select(Assignment.application_id, func.count()).group_by(Assignment.application_id)
        ).all())
        assert per_application == {i: 2 for i in application_ids}
        started = db.session.scalars(select(AuditRecord.application_id)
                                     .where(AuditRecord.trigger == "start_review")).all()
        assert sorted(started) == sorted(application_ids)
