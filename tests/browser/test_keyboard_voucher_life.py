"""The rest of a voucher's life with the keyboard alone, after the applicant's submission
(tests/browser/test_keyboard_submission.py plays that part).

The manager signs in with the second factor and assigns an evaluator; the evaluator
declares no conflict and scores every criterion with the arrow keys; the manager awards;
the applicant writes and submits the final report; the manager approves it and records
the payment. Tab, Shift+Tab, Enter, Space, the arrow keys and typing only (a page opened
by its address is the address bar's, also typed). Every element the Tab key lands on must
show its focus. The database says the voucher is paid at the end.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.browser.keyboard import (
    choose,
    choose_in_group,
    press_enter_and_wait,
    tab_to,
    type_into,
)
from tests.browser.test_voucher_life import expect_flash
from tests.factories import PASSWORD, Factories
from vouchers.extensions import db
from vouchers.models import Application

pytestmark = pytest.mark.browser

AWARDED = "20000.00"
ACTUAL_COSTS = "24000.00"  # 75% of it is 18,000: payable, under the award


@pytest.fixture
def submitted(live_server):
    from tests.matrix_cases_second_factor import enrol

    app, _ = live_server
    make = Factories()
    with app.app_context():
        call = make.call(code="KL", criteria=2)
        manager = make.manager()
        enrol(manager)
        evaluator = make.evaluator()
        application = make.application("submitted", call.voucher_type("market_validation"))
        return {"id": application.id, "reference": application.reference,
                "applicant": application.applicant.email, "manager": manager.email,
                "evaluator": evaluator.email, "evaluator_name": evaluator.name,
                "criteria": [c.name for c in application.call_voucher_type.criteria]}


def sign_in(page, url: str, email: str, *, code: bool = False) -> None:
    page.goto(url + "/account/login")
    type_into(page, "E-mail address", email)
    type_into(page, "Password", PASSWORD)
    press_enter_and_wait(page)
    if code:
        import pyotp

        from tests.matrix_cases_second_factor import SECRET

        assert page.url.endswith("/account/login/code")
        type_into(page, "Code", pyotp.TOTP(SECRET).now())
        press_enter_and_wait(page)


def test_a_voucher_is_reviewed_awarded_reported_and_paid_with_the_keyboard_alone(
        browser, live_server, submitted):
    app, url = live_server
    contexts = [browser.new_context(locale="en-US") for _ in range(3)]
    for context in contexts:
        context.set_default_timeout(10_000)
    manager, evaluator, sme = (c.new_page() for c in contexts)
    application_page = f"{url}/manage/applications/{submitted['id']}"
    try:
        # The manager assigns the evaluator.
        sign_in(manager, url, submitted["manager"], code=True)
        manager.goto(application_page)
        choose(manager, "Evaluator", f"{submitted['evaluator_name']} (0 in this call)")
        tab_to(manager, "Assign")
        press_enter_and_wait(manager)
        expect_flash(manager, f"{submitted['evaluator_name']} assigned.")

        # The evaluator opens the assignment, declares no conflict and scores.
        sign_in(evaluator, url, submitted["evaluator"])
        tab_to(evaluator, submitted["reference"])
        press_enter_and_wait(evaluator)
        tab_to(evaluator, "I have no conflict of interest")
        press_enter_and_wait(evaluator)
        for criterion in submitted["criteria"]:
            choose_in_group(evaluator, re.compile(rf"^{re.escape(criterion)} \(weight"), "4")
        choose_in_group(evaluator, "Recommendation", "Award")
        type_into(evaluator, "Comment", "A clear plan and a credible provider.")
        tab_to(evaluator, "Submit review")
        press_enter_and_wait(evaluator)
        expect_flash(evaluator, "Your review is submitted.")

        # The manager awards: Enter in the amount submits the award form.
        manager.goto(application_page)
        type_into(manager, "Amount awarded (€)", AWARDED)
        press_enter_and_wait(manager)
        expect_flash(manager, "Voucher awarded.")

        # The applicant starts, writes and submits the final report.
        sign_in(sme, url, submitted["applicant"])
        sme.goto(f"{url}/apply/applications/{submitted['id']}")
        tab_to(sme, "Start the final report")
        press_enter_and_wait(sme)
        type_into(sme, "What was done", "Thirty buyers interviewed; the price is set.")
        type_into(sme, "Actual eligible costs (EUR)", ACTUAL_COSTS)
        tab_to(sme, "Submit final report")
        press_enter_and_wait(sme)
        expect_flash(sme, "Final report submitted.")

        # The manager approves it and records the payment of what is payable.
        manager.goto(application_page)
        tab_to(manager, "Approve final report")
        press_enter_and_wait(manager)
        expect_flash(manager, "Final report approved.")
        type_into(manager, "Amount paid (€)", "18000.00")
        type_into(manager, "Payment reference", "PAY-KEYS-1")
        press_enter_and_wait(manager)
        expect_flash(manager, "Payment recorded.")
    finally:
        for context in contexts:
            context.close()

    with app.app_context():
        application = db.session.get(Application, submitted["id"])
        assert application.state == "paid"
        assert application.awarded_amount == Decimal(AWARDED)
        assert application.paid_amount == Decimal("18000.00")
        db.session.remove()
