"""Twenty managers award through the API at the same moment, each with their own token:
the envelope and the quota hold exactly as they do for the pages (tests/test_concurrency.py,
whose app, preparation and counters this reuses), on SQLite and PostgreSQL.

Each thread has its own test client, so each request its own app context, session and
connection; a barrier releases the twenty requests together.
"""

from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import func, select

from tests.api_support import token_of
from tests.factories import Factories
from tests.ledger_checks import assert_books_balance
from tests.test_concurrency import (
    THREADS,
    _committed,
    _prepare,
    concurrent_app,  # noqa: F401 (the fixture, reused)
)
from vouchers.extensions import db
from vouchers.models import Application, AuditRecord

ENVELOPE_MESSAGE = ("Awarding €1,000.00 would exceed the travel envelope: €500.00 of "
                    "€7,500.00 remains.")
QUOTA_MESSAGE = "The quota of 7 travel vouchers is used up (7 awarded)."


def _managers_with_tokens(app, count: int) -> list[str]:
    """``count`` more managers, each with a token that reads and writes."""
    with app.app_context():
        make = Factories()
        return [token_of(make.user("manager", email=f"racer{n}@test.example"))
                for n in range(count)]


def _race(app, application_ids, tokens, amount) -> list[tuple[int, str]]:
    """POST the award of each application with its own manager's token, all at once."""
    barrier = threading.Barrier(len(application_ids))
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def award(application_id, token):
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        try:
            # Each token's first use: the request also stamps the token's last use.
            barrier.wait(timeout=30)
            response = client.post(
                f"/api/v1/manage/applications/{application_id}/actions/award",
                json={"amount": amount}, headers=headers)
            body = response.get_json()
            outcome = (response.status_code,
                       body.get("detail") if response.status_code != 200
                       else body["application"]["state"])
        except Exception as exc:  # noqa: BLE001 - reported in the assertion below
            outcome = (0, repr(exc))
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=award, args=pair)
               for pair in zip(application_ids, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def _check_books(app, cvt_id, application_ids) -> None:
    """Counters equal rows and ledger; each award has its one audit record, the refused
    applications are untouched."""
    committed, count, awarded_rows, awarded_sum = _committed(app, cvt_id)
    assert committed == awarded_sum == Decimal("7000.00")
    assert count == awarded_rows == 7
    with app.app_context():
        assert_books_balance()
        awards = db.session.scalar(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.trigger == "award", AuditRecord.application_id.in_(application_ids)))
        assert awards == 7
        states = db.session.scalars(select(Application.state).where(
            Application.id.in_(application_ids))).all()
        assert sorted(states) == ["awarded"] * 7 + ["under_review"] * (THREADS - 7)


def test_envelope_holds_when_twenty_managers_award_through_the_api(concurrent_app):  # noqa: F811
    # Room for 7 awards of 1,000 in the envelope; the quota is not the limit.
    cvt_id, _, ids = _prepare(concurrent_app, {"travel": (50, "5000", "1.00", "7500")})
    tokens = _managers_with_tokens(concurrent_app, THREADS)
    outcomes = _race(concurrent_app, ids, tokens, "1000")
    assert sorted(outcomes) == ([(200, "awarded")] * 7
                                + [(422, ENVELOPE_MESSAGE)] * (THREADS - 7)), outcomes
    _check_books(concurrent_app, cvt_id, ids)


def test_quota_holds_when_twenty_managers_award_through_the_api(concurrent_app):  # noqa: F811
    # Room for 7 vouchers in the quota; the envelope is not the limit.
    cvt_id, _, ids = _prepare(concurrent_app, {"travel": (7, "5000", "1.00", "1000000")})
    tokens = _managers_with_tokens(concurrent_app, THREADS)
    outcomes = _race(concurrent_app, ids, tokens, "1000")
    assert sorted(outcomes) == ([(200, "awarded")] * 7
                                + [(422, QUOTA_MESSAGE)] * (THREADS - 7)), outcomes
    _check_books(concurrent_app, cvt_id, ids)
