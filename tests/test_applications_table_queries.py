"""The applications table runs the same number of SQL queries whatever its page size."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from tests.helpers import count_queries, login
from vouchers.extensions import db
from vouchers.models import Application, Organisation, User
from vouchers.models.base import utcnow
from vouchers.services.listing import TableQuery, applications_page

ROWS = 120




@pytest.fixture
def call_with_many_applications(make):
    """ROWS submitted applications from ROWS organisations (so lazy loads would show)."""
    call = make.call()
    cvt = call.voucher_type("market_validation")
    organisations = [
        Organisation(legal_name=f"Company {i} GmbH", registry_number=f"DE{i:08d}",
                     country=("DE", "NL", "DK")[i % 3], region="Somewhere")
        for i in range(ROWS)
    ]
    db.session.add_all(organisations)
    db.session.flush()
    applicants = [User(email=f"sme{i}@test.example", name=f"SME {i}", role="applicant",
                       organisation_id=o.id) for i, o in enumerate(organisations)]
    db.session.add_all(applicants)
    db.session.flush()
    now = utcnow()
    db.session.execute(insert(Application), [
        {"reference": f"{call.code}-MV-{i:05d}", "call_id": call.id,
         "call_voucher_type_id": cvt.id, "voucher_type": "market_validation",
         "organisation_id": o.id, "applicant_id": u.id, "title": f"Project {i}",
         "requested_amount": Decimal("10000.00"), "state": "submitted",
         "submitted_at": now - timedelta(minutes=i),
         "weighted_score": Decimal(i % 50) / 10 if i % 4 else None}
        for i, (o, u) in enumerate(zip(organisations, applicants, strict=True))
    ])
    db.session.commit()
    return call


@pytest.mark.parametrize("extra", [
    "", "&sort=score", "&sort=score&dir=asc", "&country=DE", "&q=company", "&state=submitted",
])
def test_page_size_does_not_change_the_number_of_queries(client, make,
                                                         call_with_many_applications, extra):
    call = call_with_many_applications
    login(client, make.manager())
    client.get("/manage/applications")  # loads the logged-in user once, like any request

    small, small_html = count_queries(
        client, f"/manage/applications?call={call.id}&per_page=10{extra}")
    large, large_html = count_queries(
        client, f"/manage/applications?call={call.id}&per_page=100{extra}")

    assert small_html.count('<th scope="row"><a href="/manage/applications/') == 10
    assert large_html.count('<th scope="row"><a href="/manage/applications/') == (
        40 if "country" in extra else 100)
    assert small == large
    # Counts, the page's ids, its rows with their organisations, the calls and countries
    # for the filter form, the transaction's BEGIN: a handful, not one per row.
    assert small <= 10


def test_a_deep_page_costs_no_more_than_the_first(client, make, call_with_many_applications):
    call = call_with_many_applications
    login(client, make.manager())
    client.get("/manage/applications")

    first, _ = count_queries(client, f"/manage/applications?call={call.id}&per_page=10")
    last, html = count_queries(client,
                               f"/manage/applications?call={call.id}&per_page=10&page=12")

    assert first == last
    assert "Applications 111–120 of 120" in html


def _expected_score_order(call_id: int, descending: bool, text: str = "") -> list[int]:
    """The score order worked out in Python: scored best (or worst) first, unscored last,
    ties by id."""
    rows = db.session.execute(
        select(Application.id, Application.weighted_score)
        .where(Application.call_id == call_id, Application.title.contains(text))
    ).all()
    scored = sorted((r for r in rows if r.weighted_score is not None),
                    key=lambda r: (r.weighted_score, r.id), reverse=descending)
    unscored = sorted((r.id for r in rows if r.weighted_score is None), reverse=descending)
    return [r.id for r in scored] + unscored


def _all_pages(call_id: int, **kwargs) -> list[int]:
    ids, page = [], 1
    while True:
        result = applications_page(TableQuery(call_id=call_id, page=page, per_page=25, **kwargs))
        ids += [a.id for a in result.items]
        if not result.has_next:
            return ids
        page += 1


@pytest.mark.parametrize("direction", ["desc", "asc"])
@pytest.mark.parametrize("text", ["", "Project 1"])
def test_score_order_runs_across_pages_with_the_unscored_last(call_with_many_applications,
                                                               direction, text):
    call = call_with_many_applications
    expected = _expected_score_order(call.id, direction == "desc", text)
    assert _all_pages(call.id, sort="score", direction=direction, text=text) == expected


def test_a_search_past_its_last_page_shows_the_last_page(call_with_many_applications):
    call = call_with_many_applications
    # "Project 1", "Project 10".."Project 19", "Project 100".."Project 119": 31 matches
    result = applications_page(TableQuery(call_id=call.id, text="project 1", page=9,
                                          per_page=10))
    assert (result.total, result.page, len(result.items)) == (31, 4, 1)
    nothing = applications_page(TableQuery(call_id=call.id, text="no such thing", page=3))
    assert (nothing.total, nothing.page, nothing.items) == (0, 1, [])
