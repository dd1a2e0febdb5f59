"""The funding line and the reserve list, clicked through in headless Chromium.

Three market-validation applications are reviewed (scores 5, 4 and 3) for a quota of two.
The manager opens the ranking, proposes the funding line (two awards, one waitlisted),
confirms it, then cancels the first voucher; the call's dashboard offers the waitlisted
application from the reserve list and the manager promotes it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.browser.test_voucher_life import (
    TIMEOUT_MS,
    enrol_second_factor,
    expect_flash,
    log_in,
)
from tests.factories import Factories
from vouchers.extensions import db
from vouchers.models import Application

pytestmark = pytest.mark.browser

TYPES = {"market_validation": (2, "60000", "0.75", "120000")}


@pytest.fixture
def ranked(live_server):
    app, _ = live_server
    make = Factories()
    with app.app_context():
        call = make.call(TYPES, code="FL")
        cvt = call.voucher_type("market_validation")
        manager = make.manager()
        enrol_second_factor(manager)
        apps = []
        for score in (5, 4, 3):
            application = make.application("submitted", cvt, requested="40000.00",
                                           costs="60000.00")
            make.review(application, manager=manager, score=score)
            apps.append(application.reference)
        return {"call_id": call.id, "manager": manager.email, "references": apps}


def _states(app, references):
    with app.app_context():
        rows = db.session.execute(select(Application.reference, Application.state)
                                  .where(Application.reference.in_(references))).all()
        return dict(rows)


def test_manager_confirms_the_funding_line_then_promotes_from_the_reserve_list(
        browser, live_server, ranked, shots):
    from playwright.sync_api import expect

    app, url = live_server
    first, second, third = ranked["references"]
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        log_in(page, url, ranked["manager"])
        page.goto(f"{url}/manage/calls/{ranked['call_id']}/ranking/market_validation")
        expect(page.get_by_role("heading", name="Ranking of market validation")).to_be_visible()
        rows = page.locator("table tbody tr")
        expect(rows.first).to_contain_text(first)
        shots(page, "ranking")

        page.get_by_role("button", name="Propose the funding line").click()
        expect(page.get_by_role("heading", name="Proposed funding line: market validation")
               ).to_be_visible()
        # Nothing is applied before the manager confirms.
        assert set(_states(app, ranked["references"]).values()) == {"under_review"}
        shots(page, "proposal")
        page.get_by_role("button", name="Confirm the funding line").click()
        expect_flash(page, "Funding line applied")
        assert _states(app, ranked["references"]) == {
            first: "awarded", second: "awarded", third: "waitlisted"}

        # Cancelling the first voucher returns its money and quota place.
        with app.app_context():
            first_id = db.session.scalar(select(Application.id)
                                         .where(Application.reference == first))
        page.goto(f"{url}/manage/applications/{first_id}")
        cancel = page.locator("#action-cancel")
        cancel.get_by_label("Reason").fill("The company gave up the study.")
        cancel.get_by_role("button", name="Cancel voucher").click()
        expect_flash(page, "Voucher cancelled")

        page.goto(f"{url}/manage/calls/{ranked['call_id']}/dashboard")
        offers = page.locator("#reserve-offers")
        expect(offers).to_contain_text(third)
        shots(page, "reserve offer")
        offers.get_by_role("button", name="Promote and award €40,000.00").click()
        expect_flash(page, f"{third} promoted from the reserve list")
        assert _states(app, ranked["references"]) == {
            first: "cancelled", second: "awarded", third: "awarded"}
        with app.app_context():
            awarded = db.session.scalar(select(Application.awarded_amount)
                                        .where(Application.reference == third))
        assert awarded == Decimal("40000.00")
    finally:
        context.close()
