"""Two-factor sign-in clicked through in headless Chromium: a new manager is sent to set
it up, reads the key off the page (as typing it into an app would), turns it on, signs
out, signs in with the app's code; a recovery code then signs in once, and only once."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.test_voucher_life import TIMEOUT_MS, expect_flash
from tests.factories import PASSWORD, Factories

pytestmark = pytest.mark.browser


@pytest.fixture
def manager_email(live_server):
    app, _ = live_server
    with app.app_context():
        return Factories().manager().email


def _password_step(page, url: str, email: str) -> None:
    page.goto(url + "/account/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _code_step(page, code: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Type your code")).to_be_visible()
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Continue").click()


def _log_out(page) -> None:

    page.get_by_role("button", name="Log out").click()
    expect_flash(page, "You are logged out.")


def test_a_manager_enrols_signs_out_and_signs_in_with_the_code(browser, live_server,
                                                                manager_email, shots):
    import pyotp
    from playwright.sync_api import expect

    _, url = live_server
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        # The password alone leads to the set-up, and nowhere else.
        _password_step(page, url, manager_email)
        expect(page.get_by_role("heading", name="Two-factor sign-in", exact=True)
               ).to_be_visible()
        expect(page.get_by_text("Your role requires two-factor sign-in")).to_be_visible()
        page.goto(url + "/manage/users")
        expect(page).to_have_url(url + "/account/second-factor")
        page.get_by_role("button", name="Set up two-factor sign-in").click()

        expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
        expect(page.locator("figure.qr-code svg")).to_be_visible()
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        shots(page, "enrol")
        page.get_by_label("Code from your app").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Turn on two-factor sign-in").click()

        expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
        codes = page.locator("ul.recovery-codes code").all_inner_texts()
        assert len(codes) == 10
        shots(page, "recovery-codes")
        page.get_by_role("link", name="I have kept them: go on").click()
        page.goto(url + "/manage/users")
        expect(page.get_by_role("heading", name="Users and invitations")).to_be_visible()
        _log_out(page)

        # Back with the password and the app's code. The code of the next step: the one
        # of enrolment's step is used up, and the next step is within the accepted drift.
        _password_step(page, url, manager_email)
        shots(page, "code-step")
        _code_step(page, pyotp.TOTP(secret).at(time.time() + 30))
        page.goto(url + "/manage/users")
        expect(page.get_by_role("heading", name="Users and invitations")).to_be_visible()
        _log_out(page)

        # A recovery code works once.
        _password_step(page, url, manager_email)
        _code_step(page, codes[0])
        expect_flash(page, "You signed in with a recovery code")
        shots(page, "recovery-used")
        _log_out(page)
        _password_step(page, url, manager_email)
        _code_step(page, codes[0])
        expect(page.get_by_text("That code is not right")).to_be_visible()
        page.goto(url + "/manage/users")
        expect(page).to_have_url(re.compile(r"/account/login\?next="))
    finally:
        context.close()
