"""An applicant who forgot the password asks for a link, follows it from the e-mail the
real SMTP server received, sets a new password and logs in with it, in headless Chromium.

The live server runs in a thread of this process: the test points its app at an aiosmtpd
server (tests/mail_server.py) and at its own address as BASE_URL, and runs the sender
(services.mail_sender.deliver_due) in the app's context, as `flask send-mail` would.
"""

from __future__ import annotations

import pytest

from tests.account_links_support import body, link_in
from tests.factories import Factories
from tests.mail_server import SMTPServer

pytestmark = pytest.mark.browser

NEW_PASSWORD = "orchard-velvet-compass-57"
TIMEOUT_MS = 10_000


@pytest.fixture
def mail(live_server):
    app, url = live_server
    server = SMTPServer()
    server.start()
    server.configure(app)
    saved = app.config["BASE_URL"]
    app.config["BASE_URL"] = url  # the links in the mail point at the live server
    try:
        yield server
    finally:
        app.config["BASE_URL"] = saved
        server.restore()
        server.stop()


def deliver(app) -> None:
    from vouchers.services.mail_sender import deliver_due

    with app.app_context():
        deliver_due()


def test_an_applicant_resets_the_password_from_the_mailed_link(browser, live_server, mail,
                                                               shots):
    from playwright.sync_api import expect

    app, url = live_server
    with app.app_context():
        email = Factories().applicant().email
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(url + "/account/login")
        page.get_by_role("link", name="Forgot your password?").click()
        expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
        page.get_by_label("E-mail address").fill(email)
        page.get_by_role("button", name="Send me a link").click()
        expect(page.get_by_text("If an account exists for that address, we sent a link to "
                                "it; it works for 1 hour.")).to_be_visible()
        shots(page, "reset-asked")

        deliver(app)
        [message] = mail.messages
        assert message["To"] == email and message["Subject"] == "Reset your password"
        assert f"{url}/account/reset/" in body(message)
        page.goto(url + link_in(message, "/account/reset/"))

        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        page.get_by_label("New password").fill(NEW_PASSWORD)
        page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Set the new password").click()
        expect(page.get_by_role("status").filter(
            has_text="Your new password is set")).to_be_visible()
        shots(page, "reset-done")

        page.get_by_role("link", name="Log in").click()
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="My applications")).to_be_visible()
        expect(page.get_by_text("Logged in as")).to_be_visible()
        shots(page, "reset-logged-in")

        # The owner is told of the change, by the same route.
        deliver(app)
        assert [m["Subject"] for m in mail.messages[1:]] == ["Your password was changed"]
    finally:
        context.close()
