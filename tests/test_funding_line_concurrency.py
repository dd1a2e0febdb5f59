"""Confirming a funding line while others decide: all or nothing, within the envelope.

Each actor has its own app context (its own session and connection), as two requests
would; run on SQLite (a file) and on PostgreSQL (skipped when no server answers, as in
tests/test_concurrency.py, whose fixture this borrows).
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests import test_concurrency
from tests.factories import Factories
from vouchers.extensions import db
from vouchers.models import Application, CallVoucherType, User
from vouchers.services import funding_line, reviews, transitions
from vouchers.services.errors import DomainError

ROUNDS = 3
# The fixture of tests/test_concurrency.py: a migrated app per backend.
concurrent_app = test_concurrency.concurrent_app


def _build(app) -> dict:
    """Envelope 100,000: the line awards the first two (60,000 + 40,000); the third,
    30,000, is proposed for the waitlist."""
    with app.app_context():
        make = Factories()
        call = make.call({"market_validation": (10, "60000", "0.75", "100000")})
        call.max_applications_per_type = None
        db.session.commit()
        cvt = call.voucher_type("market_validation")
        manager, evaluator = make.manager(), make.evaluator()
        ids = []
        for score, requested in ((5, "60000"), (4, "40000"), (3, "30000")):
            applicant = make.applicant()
            application = make.draft(cvt, applicant, requested=requested)
            transitions.submit(application, applicant)
            reviews.assign(application, evaluator, manager)
            reviews.confirm_no_conflict(application, evaluator)
            reviews.submit_review(application, evaluator, recommendation="award",
                                  comment="Fine.",
                                  scores={c.id: score for c in cvt.criteria})
            db.session.commit()
            ids.append(application.id)
        return {"cvt": cvt.id, "manager": manager.id, "ids": ids,
                "applicant": db.session.get(Application, ids[1]).applicant_id}


def _proposal(app, world):
    with app.app_context():
        proposal = funding_line.propose(db.session.get(CallVoucherType, world["cvt"]))
        assert [line.action for line in proposal.lines] == ["award", "award", "waitlist"]
        found = proposal.fingerprint, proposal.basis
        db.session.rollback()
        db.session.remove()
        return found


def _confirm(app, world, fingerprint, basis) -> str:
    with app.app_context():
        try:
            cvt = db.session.get(CallVoucherType, world["cvt"])
            funding_line.confirm(cvt, db.session.get(User, world["manager"]), fingerprint,
                                 basis=basis)
            db.session.commit()
            return "confirmed"
        except DomainError as exc:
            return f"refused: {exc.message}"
        finally:
            db.session.rollback()
            db.session.remove()


def _figures(app, world):
    with app.app_context():
        cvt = db.session.get(CallVoucherType, world["cvt"])
        states = [db.session.get(Application, i).state for i in world["ids"]]
        awarded = db.session.execute(
            select(func.count(), func.coalesce(func.sum(Application.awarded_amount), 0))
            .where(Application.call_voucher_type_id == cvt.id, Application.state == "awarded")
        ).one()
        return cvt.committed, cvt.awarded_count, states, awarded[0], Decimal(awarded[1])


@pytest.mark.parametrize("change", ["award", "withdraw"])
def test_a_change_committed_between_propose_and_confirm_fails_it_cleanly(concurrent_app,
                                                                         change):
    app = concurrent_app
    world = _build(app)
    fingerprint, basis = _proposal(app, world)
    with app.app_context():  # a colleague awards the third; or the second is withdrawn
        if change == "award":
            third = db.session.get(Application, world["ids"][2])
            transitions.award(third, db.session.get(User, world["manager"]), "30000")
        else:
            second = db.session.get(Application, world["ids"][1])
            transitions.withdraw(second, db.session.get(User, world["applicant"]))
        db.session.commit()
        db.session.remove()
    outcome = _confirm(app, world, fingerprint, basis)
    assert outcome.startswith("refused: The ranking changed since the proposal was made")
    assert outcome.endswith("recompute it.")
    committed, count, states, _, _ = _figures(app, world)
    if change == "award":
        assert (committed, count) == (Decimal("30000.00"), 1)
        assert states == ["under_review", "under_review", "awarded"]
    else:
        assert (committed, count) == (Decimal("0.00"), 0)
        assert states == ["under_review", "withdrawn", "under_review"]


def _award_third(app, world, barrier) -> str:
    with app.app_context():
        try:
            third = db.session.get(Application, world["ids"][2])
            manager = db.session.get(User, world["manager"])
            barrier.wait(timeout=30)
            transitions.award(third, manager, "30000")
            db.session.commit()
            return "awarded"
        except DomainError as exc:
            return f"refused: {exc.message}"
        finally:
            db.session.rollback()
            db.session.remove()


def _confirm_at(app, world, fingerprint, basis, barrier) -> str:
    barrier.wait(timeout=30)
    return _confirm(app, world, fingerprint, basis)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_an_award_racing_the_confirmation_cannot_exceed_the_envelope(concurrent_app, round_):
    app = concurrent_app
    world = _build(app)
    fingerprint, basis = _proposal(app, world)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def run(name, work, *args):
        try:
            outcomes[name] = work(*args)
        except Exception as exc:  # noqa: BLE001 - reported in the assertion below
            outcomes[name] = f"error: {exc!r}"

    threads = [
        threading.Thread(target=run, args=("confirm", _confirm_at, app, world, fingerprint,
                                           basis, barrier)),
        threading.Thread(target=run, args=("award", _award_third, app, world, barrier)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not [o for o in outcomes.values() if o.startswith("error")], outcomes
    committed, count, states, awarded_rows, awarded_sum = _figures(app, world)
    assert committed <= Decimal("100000.00")
    assert (committed, count) == (awarded_sum, awarded_rows)
    if outcomes["confirm"] == "confirmed":
        # The whole line: both awards and the waitlist; the colleague was refused.
        assert outcomes["award"].startswith("refused"), outcomes
        assert states == ["awarded", "awarded", "waitlisted"]
        assert committed == Decimal("100000.00")
    else:
        # Nothing of the line: only the colleague's award.
        assert outcomes["award"] == "awarded", outcomes
        assert states == ["under_review", "under_review", "awarded"]
        assert committed == Decimal("30000.00")


def test_confirming_twice_applies_once(concurrent_app):
    """A double click: the second confirmation finds the ranking changed by the first."""
    app = concurrent_app
    world = _build(app)
    fingerprint, basis = _proposal(app, world)
    first = _confirm(app, world, fingerprint, basis)
    second = _confirm(app, world, fingerprint, basis)
    assert first == "confirmed"
    assert second.startswith("refused: The ranking changed")
    committed, count, states, _, _ = _figures(app, world)
    assert (committed, count) == (Decimal("100000.00"), 2)
    assert states == ["awarded", "awarded", "waitlisted"]

