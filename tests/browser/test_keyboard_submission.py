"""An applicant submits an application with the keyboard alone.

From the public home page: the applicant signs in, opens the call's application form,
fills it (a select, a date, a second cost line), saves it, uploads a quote and submits it
with the declaration of publication, using nothing but Tab, Shift+Tab, Enter, Space, the
arrow keys and typing (Playwright's ``page.keyboard``; no click, no fill). Every element the
Tab key lands on must show that it has the focus (an outline of the keyboard focus). The
database says the application is submitted at the end.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.keyboard import choose, open_file_picker, press_enter_and_wait, tab_to, type_into
from tests.factories import PASSWORD, Factories
from tests.helpers import PDF
from vouchers.extensions import db
from vouchers.models import Application

pytestmark = pytest.mark.browser

TITLE = "Will clinics pay for our wound sensor?"


@pytest.fixture
def applicant_world(live_server):
    app, _ = live_server
    make = Factories()
    with app.app_context():
        call = make.call(code="KB")
        provider = make.provider()
        applicant = make.applicant()
        return {"email": applicant.email, "call_title": call.title,
                "provider": f"{provider.name} ({provider.country}, {provider.region})",
                "organisation_id": applicant.organisation_id}


def test_an_applicant_submits_with_the_keyboard_alone(browser, live_server, applicant_world,
                                                      tmp_path):
    from playwright.sync_api import expect

    app, url = live_server
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    quote = Path(tmp_path / "quote.pdf")
    quote.write_bytes(PDF)
    try:
        page.goto(url + "/")
        # The first Tab reaches the skip link, which shows itself when focused.
        tab_to(page, "Skip to content")
        tab_to(page, "Log in")
        press_enter_and_wait(page)
        type_into(page, "E-mail address", applicant_world["email"])
        type_into(page, "Password", PASSWORD)
        press_enter_and_wait(page)  # Enter in a field submits the login form
        expect(page.get_by_role("heading", name="My applications")).to_be_visible()

        tab_to(page, f"Apply for market validation vouchers of {applicant_world['call_title']}")
        press_enter_and_wait(page)
        expect(page.get_by_role("heading", name="New market validation voucher application")
               ).to_be_visible()
        type_into(page, "Title", TITLE)
        type_into(page, "Summary", "A study of what wound clinics pay for dressings today.")
        choose(page, "Service provider", applicant_world["provider"])
        type_into(page, "Service bought", "Interviews with 20 clinic buyers.")
        # A date field takes its parts in the browser's order: month, day, year here
        # (this Chromium keeps it in every locale).
        type_into(page, "Service delivered by", "06302027")
        type_into(page, "Cost line 1: what it is for", "Market study by the provider")
        type_into(page, "Cost line 1: amount in euros", "30000.00")
        tab_to(page, "Add a cost line")
        press_enter_and_wait(page)
        # The form comes back with a second line (and the focus at the page's beginning).
        type_into(page, "Cost line 2: what it is for", "Travel to the provider's lab")
        type_into(page, "Cost line 2: amount in euros", "10000.00")
        type_into(page, re.compile(r"^Amount requested"), "30000.00")
        # Back up one field and forward again: Shift+Tab works as well as Tab.
        tab_to(page, "Cost line 2: amount in euros", backwards=True)
        tab_to(page, "Save draft")
        press_enter_and_wait(page)
        expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
        expect(page.get_by_text("The application is complete and can be submitted.")
               ).to_be_visible()

        # The quote: the keyboard opens the file picker (Space on the file field); the
        # picker itself is the operating system's, so Playwright answers it with the file.
        choose(page, "What is this document?", "The provider's quote")
        tab_to(page, "Add a file")
        open_file_picker(page).set_files(str(quote))
        tab_to(page, "Upload")
        press_enter_and_wait(page)
        expect(page.get_by_role("link", name="quote.pdf")).to_be_visible()

        # The declaration: Space ticks the publication consent; Enter submits.
        tab_to(page, re.compile(r"public list of operations"))
        page.keyboard.press("Space")
        assert page.evaluate("() => document.activeElement.checked") is True
        tab_to(page, "Submit the application")
        press_enter_and_wait(page)
        expect(page.get_by_role("status").filter(has_text="Application submitted.")
               ).to_be_visible()
    finally:
        context.close()

    with app.app_context():
        submitted = db.session.scalars(select(Application).where(
            Application.organisation_id == applicant_world["organisation_id"])).one()
        assert (submitted.title, submitted.state) == (TITLE, "submitted")
        assert submitted.publication_consent is True
        assert len(submitted.attachments) == 1
