"""The calls overview and a call's dashboard: budget chart, figures and counts per state."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.helpers import login, snapshot
from vouchers.clock import local_date
from vouchers.services import payments
from vouchers.services.dashboard import call_dashboard


@pytest.fixture
def manager(make, client):
    user = make.manager()
    login(client, user)
    return user


def row_of(html: str, label: str) -> list[str]:
    """The cells of the budget table's row for ``label``."""
    table = html[html.index('id="budget-table"'):]
    row = re.search(rf"<th scope=\"row\">{label}</th>(.*?)</tr>", table, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row,
                                                                   re.S)]


def test_home_lists_open_calls_first_linking_to_their_dashboards(client, make, manager):
    closed = make.call(open_now=False)
    open_call = make.call()

    html = client.get("/manage/").get_data(as_text=True)

    assert html.index(open_call.title) < html.index(closed.title)
    assert f'href="/manage/calls/{open_call.id}/dashboard"' in html
    assert f'href="/manage/calls/{closed.id}/dashboard"' in html
    assert 'href="/manage/applications"' in html  # the navigation


def test_dashboard_figures_per_voucher_type(client, make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    paid = make.application("paid", mv, manager=manager, amount="30000")
    make.application("awarded", mv, manager=manager, amount="20000")
    make.application("cancelled", mv, manager=manager, amount="10000")
    make.application("submitted", mv)
    make.application("draft", mv)
    make.application("submitted", call.voucher_type("travel"))

    html = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)

    # quota, awarded, quota left, envelope, committed, paid, remaining, applications
    assert row_of(html, "Market validation") == [
        "6", "2", "4", "€360,000.00", "€50,000.00", f"€{paid.paid_amount:,.2f}",
        "€310,000.00", "4",
    ]
    assert row_of(html, "Travel")[:3] == ["12", "0", "12"]
    assert "Drafts not yet submitted: 1." in html


def test_dashboard_draws_the_chart_on_the_server(client, make, manager):
    call = make.call()
    make.application("awarded", call.voucher_type("travel"), manager=manager)

    html = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)

    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "Quota: 1 of 12 vouchers awarded · 11 left" in svg
    assert "<script" not in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html


def test_counts_per_state_link_to_the_filtered_table(client, make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    make.application("submitted", mv)
    make.application("submitted", mv)
    make.application("rejected", mv, manager=manager)

    html = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)

    link = f'/manage/applications?call={call.id}&amp;state=submitted">2</a>'
    assert link in html
    assert f'/manage/applications?call={call.id}&amp;state=rejected">1</a>' in html
    table = client.get(f"/manage/applications?call={call.id}&state=submitted")
    assert "Applications 1–2 of 2" in table.get_data(as_text=True)


def test_dashboard_offers_automatic_assignment(client, make, manager):
    call = make.call()
    html = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)
    assert f'action="/manage/calls/{call.id}/auto-assign"' in html


def test_unknown_call_is_404(client, manager):
    assert client.get("/manage/calls/999999/dashboard").status_code == 404
    assert client.get("/manage/calls/2147483648/dashboard").status_code == 404
    assert client.post("/manage/calls/999999/auto-assign",
                       data={"per_application": "2"}).status_code == 404


def test_automatic_assignment_goes_back_to_the_dashboard_with_what_it_did(client, make,
                                                                          manager):
    call = make.call()
    make.application("submitted", call.voucher_type("travel"))
    make.evaluator()

    response = client.post(f"/manage/calls/{call.id}/auto-assign",
                           data={"per_application": "1", "return_to": "dashboard"})

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/manage/calls/{call.id}/dashboard")
    assert "Made 1 assignment to 1 application." in client.get(
        response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("value, message", [("0", "Between 1 and 10."), ("", "Say how many"),
                                            ("many", "Not a valid integer value.")])
def test_an_invalid_automatic_assignment_is_a_flash_and_changes_nothing(client, make, manager,
                                                                        value, message):
    call = make.call()
    make.application("submitted", call.voucher_type("travel"))
    make.evaluator()
    before = snapshot()

    response = client.post(f"/manage/calls/{call.id}/auto-assign",
                           data={"per_application": value})

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/manage/calls/{call.id}/dashboard")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Evaluators not assigned: " in html and message in html
    assert snapshot() == before


def test_call_dashboard_service_counts_every_state_once(make, manager):
    call = make.call()
    mv = call.voucher_type("market_validation")
    make.application("waitlisted", mv, manager=manager)
    completed = make.application("completed", mv, manager=manager)
    payments.record_payment(completed, manager, Decimal("100.00"),
                       paid_on=local_date(completed.awarded_at), reference="PART-1")

    board = call_dashboard(call)

    assert board.counts == {"waitlisted": {"market_validation": 1},
                            "completed": {"market_validation": 1}}
    figures = {t.voucher_type: t for t in board.types}
    assert figures["market_validation"].paid == Decimal("100.00")
    assert figures["market_validation"].used == 1
    assert board.total("quota") == 26
