"""Each figure defined once (vouchers/figures.py) and shown the same wherever it appears."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.helpers import login
from vouchers.figures import Allocation, BudgetFigures, is_received
from vouchers.services.dashboard import call_dashboard, call_summaries


def allocation(quota=10, awarded=0, envelope="1000.00", committed="0.00") -> Allocation:
    return Allocation(quota=quota, awarded=awarded, envelope=Decimal(envelope),
                      committed=Decimal(committed))


@pytest.mark.parametrize("figures, available, money_left", [
    (allocation(), 10, True),
    (allocation(awarded=4, committed="400.00"), 6, True),
    # The quota is not used up, but the money is: nothing can be awarded any more.
    (allocation(awarded=1, committed="1000.00"), 0, False),
    (allocation(quota=3, awarded=3, committed="300.00"), 0, True),
    (allocation(envelope="0.00"), 0, False),
])
def test_vouchers_available_needs_both_quota_and_money(figures, available, money_left):
    assert figures.vouchers_available == available
    assert figures.money_left is money_left


def test_budget_figures():
    f = BudgetFigures(quota=5, awarded=2, envelope=Decimal("100.00"),
                      committed=Decimal("60.50"), paid=Decimal("10.25"))
    assert (f.remaining_quota, f.remaining_envelope, f.outstanding) == (
        3, Decimal("39.50"), Decimal("50.25"))


def test_received_means_submitted_and_never_a_draft():
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert is_received("submitted", at)
    assert is_received("withdrawn", at)  # received, then withdrawn
    assert not is_received("withdrawn", None)  # withdrawn while still a draft
    assert not is_received("draft", None)
    assert not is_received("draft", at)


def offer_cell(page: str, label: str) -> str:
    """The "Vouchers still available" cell of the offer table's row for ``label``."""
    row = re.search(rf'<th scope="row">{label}</th>(.*?)</tr>', page, re.S)
    assert row, label
    cells = re.findall(r'<td class="num">(.*?)</td>', row.group(1), re.S)
    return re.sub(r"<[^>]+>", "", cells[3]).strip()


@pytest.fixture
def spent_call(make):
    """Travel: 12 vouchers of at most 5,000, an envelope of 5,000, one voucher of 5,000."""
    call = make.call({"travel": (12, "5000", "1.00", "5000"),
                      "impact": (3, "100000", "0.50", "300000")})
    make.application("awarded", call.voucher_type("travel"), amount="5000.00")
    return call


def test_public_page_shows_no_voucher_left_once_the_money_is_gone(client, spent_call):
    page = client.get("/").get_data(as_text=True)
    assert offer_cell(page, "Travel") == "0 (no money left)"
    assert offer_cell(page, "Impact") == "3"
    # The model's running totals say the same through the same definition.
    travel = spent_call.voucher_type("travel")
    assert (travel.remaining_quota, travel.remaining_envelope) == (11, Decimal("0.00"))
    assert travel.allocation.vouchers_available == 0


def test_applicants_home_shows_the_same(client, make, spent_call):
    login(client, make.applicant())
    page = client.get("/apply/").get_data(as_text=True)
    assert offer_cell(page, "Travel") == "0 (no money left)"
    assert offer_cell(page, "Impact") == "3"


def test_dashboard_counts_applications_received_without_drafts(make):
    call = make.call()
    mv = call.voucher_type("market_validation")
    for state in ("draft", "draft", "submitted", "withdrawn", "under_review"):
        make.application(state, mv)
    board = call_dashboard(call)
    figures = {t.voucher_type: t for t in board.types}["market_validation"]
    # The factory's "withdrawn" was submitted first, so it was received.
    assert (figures.received, figures.drafts, figures.applications) == (3, 2, 5)
    assert board.submitted_total == 3 and board.drafts == 2
    summary = {s.call.id: s for s in call_summaries(datetime.now(UTC))}[call.id]
    assert (summary.applications, summary.status) == (3, "open")


def test_dashboard_page_totals_per_type_add_up_to_the_received(client, make):
    """The "All submitted" row shows applications received, as the column above it."""
    call = make.call()
    mv = call.voucher_type("market_validation")
    for state in ("draft", "draft", "submitted", "under_review"):
        make.application(state, mv)
    login(client, make.manager())
    html = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)
    start = html.index("All submitted")
    footer = html[start:html.index("</tfoot>", start)]
    cells = re.findall(r'<td class="num">(?:<a [^>]*>)?(\d+)', footer)
    # One cell per voucher type of the call, then the total: 2 received, not the 4 made.
    assert cells[:len(call.voucher_types)].count("2") == 1
    assert sum(map(int, cells[:len(call.voucher_types)])) == 2 and cells[-1] == "2"
