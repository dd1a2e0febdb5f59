"""The manager's home says what needs action, and each count leads to exactly its list."""

from __future__ import annotations

import html as html_lib
import re
from types import SimpleNamespace

import pytest
from flask import url_for
from sqlalchemy import event, update

from tests.helpers import login
from vouchers.extensions import db
from vouchers.models import Application, Consensus
from vouchers.models.base import utcnow
from vouchers.services import needs, reserve, reviews
from vouchers.services.listing import TableQuery, applications_page
from vouchers.services.needs import NEEDS, call_actions, calls_needing_action

REAL_OFFERS = reserve.offers
ROW = re.compile(r'<th scope="row"><a href="/manage/applications/\d+">([^<]+)</a></th>')


@pytest.fixture
def manager(make, client):
    user = make.manager()
    login(client, user)
    return user


@pytest.fixture(autouse=True)
def no_offers(monkeypatch):
    """The reserve list is another part's: here it offers nothing unless a test says so."""
    monkeypatch.setattr(reserve, "offers", lambda call, now=None: [])


def _flag(application: Application, **values) -> None:
    db.session.execute(update(Application).where(Application.id == application.id)
                       .values(**values))


def _under_review(make, cvt, manager, *, extra: int = 0, conflicted: int = 0) -> Application:
    """Under review with one review (the factory's) and ``extra`` more evaluators, the last
    ``conflicted`` of whom declared a conflict."""
    application = make.application("under_review", cvt, manager=manager)
    for i in range(extra):
        evaluator = make.evaluator()
        reviews.assign(application, evaluator, manager)
        if i >= extra - conflicted:
            reviews.declare_conflict(application, evaluator, "I advised this company.")
    db.session.commit()
    return application


@pytest.fixture
def world(make, manager):
    """One call with an application for every need (and some for none), another call with
    one that must not leak into the first's counts. Flags that other parts compute
    (divergent, fails_rules) are set directly, after every service step."""
    call = make.call()
    mv, tr = call.voucher_type("market_validation"), call.voucher_type("travel")
    w = SimpleNamespace(call=call)
    w.bare = make.application("submitted", mv)
    w.one = _under_review(make, mv, manager)
    w.two = _under_review(make, mv, manager, extra=1)
    w.conflicted = _under_review(make, mv, manager, extra=2, conflicted=1)
    w.divergent_open = _under_review(make, mv, manager)
    w.agreed = _under_review(make, mv, manager)
    w.stale = _under_review(make, mv, manager)
    w.waitlisted = make.application("waitlisted", mv, manager=manager)
    w.rule_breaker = make.application("submitted", mv)
    w.rejected_breaker = make.application("rejected", mv, manager=manager)
    w.report = make.application("report_submitted", mv, manager=manager)
    w.due = make.application("completed", mv, manager=manager)
    w.travel = _under_review(make, tr, manager)
    other = make.call()
    w.elsewhere = make.application("submitted", other.voucher_type("market_validation"))

    # Whatever the eligibility and scoring parts computed, only these flags stand.
    db.session.execute(update(Application).values(fails_rules=False, divergent=False))
    for a in (w.rule_breaker, w.rejected_breaker, w.elsewhere):
        _flag(a, fails_rules=True)
    for a in (w.divergent_open, w.agreed, w.stale, w.waitlisted, w.elsewhere):
        _flag(a, divergent=True)
    db.session.add(Consensus(application_id=w.agreed.id, version=w.agreed.submission_number,
                             weighted_score=4, comment="Agreed.", recorded_by_id=manager.id))
    # Resubmitted since its consensus: the consensus (and its review) are of version 1.
    _flag(w.stale, submission_number=2, review_count=0, weighted_score=None)
    db.session.add(Consensus(application_id=w.stale.id, version=1, weighted_score=3,
                             comment="On version 1.", recorded_by_id=manager.id))
    db.session.commit()
    w.expected = {
        "short_of_evaluators": {w.bare, w.one, w.divergent_open, w.agreed, w.stale,
                                w.rule_breaker, w.travel},
        "conflicts": {w.conflicted},
        "divergent": {w.divergent_open, w.agreed, w.stale, w.waitlisted},
        "consensus_missing": {w.divergent_open, w.stale},
        "fails_rules": {w.rule_breaker},
        "reports": {w.report},
        "payments_due": {w.due},
    }
    w.proposals = {"market_validation": 5, "travel": 1}  # one, two, conflicted, open, agreed
    return w


def _refs(applications) -> set[str]:
    return {a.reference for a in applications}


def _listed(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Applications" in text
    return set(ROW.findall(text))


def _section(text: str, call) -> str:
    """The home's "needs your action" lines of one call."""
    start = text.index(f'id="needs-call-{call.id}"')
    ends = [i for i in (text.find("<h3", start + 1), text.find("</section>", start)) if i > 0]
    return text[start:min(ends)]


def _item(text: str, key: str) -> list[tuple[str | None, int]]:
    """(href, count) of the dashboard's "needs your action" lines for ``key``."""
    found = []
    for body in re.findall(rf'<li data-need="{key}">(.*?)</li>', text, re.S):
        href = re.search(r'href="([^"]+)"', body)
        count = int(re.search(r"<strong>(\d+)</strong>", body).group(1))
        found.append((html_lib.unescape(href.group(1)) if href else None, count))
    return found


def test_each_need_lists_exactly_its_applications(world):
    for key, expected in world.expected.items():
        page = applications_page(TableQuery(call_id=world.call.id, needs=key, per_page=100))
        assert _refs(page.items) == _refs(expected), key
        assert page.total == len(expected), key


@pytest.mark.parametrize("where", ["home", "call"])
def test_each_count_links_to_a_table_of_exactly_those_applications(client, world, where):
    url = "/manage/" if where == "home" else f"/manage/calls/{world.call.id}/dashboard"
    text = client.get(url).get_data(as_text=True)

    assert "Needs your action" in text
    if where == "home":
        text = _section(text, world.call)
    for key, expected in world.expected.items():
        [(href, count)] = _item(text, key)
        assert count == len(expected), key
        assert href == f"/manage/applications?call={world.call.id}&needs={key}"
        assert _listed(client, href) == _refs(expected), key


def test_funding_proposals_are_counted_per_voucher_type(client, app, world):
    text = client.get(f"/manage/calls/{world.call.id}/dashboard").get_data(as_text=True)

    lines = _item(text, "proposals")
    assert [count for _, count in lines] == [world.proposals["travel"],
                                             world.proposals["market_validation"]]
    assert "Funding line to propose and confirm · Market validation" in text
    with app.test_request_context():
        assert [href for href, _ in lines] == [
            url_for("manager.ranking", call_id=world.call.id, voucher_type=vt)
            for vt in ("travel", "market_validation")]


def test_money_returned_with_a_reserve_list_links_to_the_offers(client, make, monkeypatch,
                                                                manager):
    call = make.call()
    waiting = [make.application("waitlisted", call.voucher_type("impact"), manager=manager)
               for _ in range(2)]
    monkeypatch.setattr(reserve, "offers", lambda c, now=None: [
        SimpleNamespace(voucher_type="impact", applications=waiting)] if c.id == call.id else [])

    text = client.get("/manage/").get_data(as_text=True)

    assert _item(text, "reserve") == [(f"/manage/calls/{call.id}/dashboard#reserve-offers", 2)]
    assert "Money returned, reserve list waiting · Impact" in text


def test_the_reserve_lists_own_offers_are_what_is_counted(client, make, monkeypatch,
                                                          manager):
    monkeypatch.setattr(reserve, "offers", REAL_OFFERS)
    call = make.call()
    impact = call.voucher_type("impact")
    make.application("waitlisted", impact, manager=manager)
    make.application("waitlisted", impact, manager=manager)

    offered = sum(len(o.applications) for o in REAL_OFFERS(call, utcnow())
                  if o.voucher_type == "impact")
    text = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)

    assert offered == 2  # the envelope and the quota have room for both
    expected = [(f"/manage/calls/{call.id}/dashboard#reserve-offers", offered)]
    assert _item(text, "reserve") == expected
    assert _item(_section(client.get("/manage/").get_data(as_text=True), call),
                 "reserve") == expected


def test_nothing_to_do_is_said_once_without_dead_links(client, make, world):
    quiet = make.call()
    text = client.get("/manage/").get_data(as_text=True)

    # The quiet (open) call is listed with nothing to do; no link carries a zero.
    assert "Nothing needs your action in this call." in _section(text, quiet)
    assert "<strong>0</strong>" not in text
    assert "Nothing to do: Money returned, reserve list waiting." in text


def test_closed_calls_with_nothing_in_progress_are_left_out(make, manager, world):
    closed = make.call(open_now=False)
    busy_closed = make.call()
    make.application("awarded", busy_closed.voucher_type("travel"), manager=manager)
    busy_closed.opens_at, busy_closed.closes_at = closed.opens_at, closed.closes_at
    db.session.commit()

    shown = [a.call.id for a in calls_needing_action([world.call, closed, busy_closed],
                                                     utcnow())]

    assert shown == [world.call.id, busy_closed.id]


def test_needs_combine_with_the_other_filters_and_sorting(client, world):
    base = f"/manage/applications?call={world.call.id}&needs=short_of_evaluators"
    assert _listed(client, base + "&type=travel") == {world.travel.reference}
    assert _listed(client, base + "&state=submitted") == _refs({world.bare, world.rule_breaker})
    assert _listed(client, base + "&sort=score&dir=asc") == _refs(
        world.expected["short_of_evaluators"])
    assert _listed(client, base + f"&q={world.travel.reference}") == {world.travel.reference}
    # The pager keeps the filter.
    text = client.get(base + "&per_page=10").get_data(as_text=True)
    assert "needs=short_of_evaluators" in text


@pytest.mark.parametrize("value", ["everything", "FAILS_RULES", "1"])
def test_an_unknown_need_is_a_400_that_says_why(client, manager, make, value):
    call = make.call()
    response = client.get(f"/manage/applications?call={call.id}&needs={value}")
    assert response.status_code == 400
    assert "Choose one of the listed needs for action." in response.get_data(as_text=True)


def _queries(client, url: str) -> int:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return len(seen)


def test_the_home_costs_the_same_queries_for_one_busy_call_or_three(client, make, manager):
    client.get("/manage/")
    first = make.call()
    make.application("submitted", first.voucher_type("travel"))
    one = _queries(client, "/manage/")

    for _ in range(2):
        call = make.call()
        for vt in ("travel", "impact"):
            make.application("submitted", call.voucher_type(vt))
    three = _queries(client, "/manage/")

    assert one == three
    assert three <= 10


def test_a_needs_page_costs_the_same_queries_whatever_its_size(client, world):
    base = f"/manage/applications?call={world.call.id}&needs=short_of_evaluators"
    client.get(base)
    assert _queries(client, base + "&per_page=10") == _queries(client, base + "&per_page=100")


def test_counts_come_from_one_grouped_query(world, monkeypatch):
    calls: list = []
    real = needs._counts
    monkeypatch.setattr(needs, "_counts",
                        lambda ids, viewer=None: calls.append(ids) or real(ids, viewer))

    actions = call_actions(world.call, utcnow())

    assert len(calls) == 1
    counts = {i.key: i.count for i in actions.items if i.key in NEEDS}
    assert counts == {k: len(v) for k, v in world.expected.items()}
