"""A whole voucher life, played by clicking through the real pages in headless Chromium.

An SME registers, describes its company and applies for a market-validation voucher; the
manager assigns an evaluator, who scores it; the manager awards; the SME reports; the
manager approves the report and records the payment; the SME sees the voucher paid.
Each role has its own browser context, so their sessions never mix. A screenshot of
each of the seven stages lands in test-artifacts/browser/.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.account_links_support import outbox_link
from tests.factories import PASSWORD, Factories
from vouchers.extensions import db
from vouchers.models import Application, AuditRecord, Payment
from vouchers.services import settlement

pytestmark = pytest.mark.browser

SME_EMAIL = "founder@lumen-bio.example"
SME_NAME = "Ada Founder"
SME_PASSWORD = "amber-lantern-quietly-crosses-88"
TITLE = "Will EU hospitals buy our sepsis test?"

# Two cost lines of 30,000 + 10,000: 75% of 40,000 is the 30,000 requested. The manager
# awards 28,000; the actual costs of 36,000 make 27,000 payable (75%, under the award).
REQUESTED = "30000.00"
AWARDED = "28000.00"
ACTUAL_COSTS = "36000.00"
PAYABLE = Decimal("27000.00")

# The costs come in below the award: approving the report releases the rest at once; the
# payment has its own record before the one that closes the voucher.
EXPECTED_TRIGGERS = ["create", "submit", "start_review", "award", "start_reporting",
                     "submit_report", "approve_report", "release", "payment", "pay"]

# Playwright waits 30 s for an action by default; a page of this app answers in milliseconds.
TIMEOUT_MS = 10_000


def expect_flash(page, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def expect_state(page, label: str) -> None:
    """The state badge in the "State: …" line at the top of an application page."""
    from playwright.sync_api import expect

    line = page.locator("main p").filter(has_text="State:").first
    expect(line.locator(".badge").first).to_have_text(label)


def enrol_second_factor(user) -> None:
    """Managers sign in with a second factor: enrol the known secret through the service
    (tests/matrix_cases_second_factor.enrol), for log_in to answer the code step with."""
    from tests.matrix_cases_second_factor import enrol

    enrol(user)


def log_in(page, base_url: str, email: str, password: str = PASSWORD) -> None:
    import pyotp

    from tests.matrix_cases_second_factor import SECRET

    page.goto(base_url + "/account/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    if page.url.endswith("/account/login/code"):
        page.get_by_label("Code", exact=True).fill(pyotp.TOTP(SECRET).now())
        page.get_by_role("button", name="Continue").click()


@pytest.fixture
def programme(live_server):
    """The open call, a provider in the catalogue, a manager and an evaluator."""
    app, _ = live_server
    make = Factories()
    with app.app_context():
        call = make.call(code="VL", criteria=3)
        provider = make.provider()
        manager = make.manager()
        enrol_second_factor(manager)
        evaluator = make.evaluator()
        mv = call.voucher_type("market_validation")
        return {
            "call_title": call.title,
            "criteria": [c.name for c in mv.criteria],
            "provider": f"{provider.name} ({provider.country}, {provider.region})",
            "manager": manager.email,
            "evaluator": evaluator.email,
            "evaluator_id": evaluator.id,
            "evaluator_name": evaluator.name,
        }


def test_voucher_life_from_registration_to_payment(browser, live_server, programme, shots):
    from playwright.sync_api import expect

    app, url = live_server
    contexts = {role: browser.new_context() for role in ("sme", "manager", "evaluator")}
    for context in contexts.values():
        context.set_default_timeout(TIMEOUT_MS)
    sme, manager, evaluator = (contexts[r].new_page() for r in ("sme", "manager", "evaluator"))
    try:
        # --- 1. The SME registers, describes the company, applies and submits ----------
        sme.goto(url + "/account/register")
        expect(sme.get_by_role("heading", name="Create an account")).to_be_visible()
        sme.get_by_label("Your name").fill(SME_NAME)
        sme.get_by_label("E-mail address").fill(SME_EMAIL)
        sme.get_by_label("Password", exact=True).fill(SME_PASSWORD)
        sme.get_by_label("Repeat the password").fill(SME_PASSWORD)
        sme.get_by_label("I have read the privacy notice", exact=False).check()
        sme.get_by_role("button", name="Create my account").click()

        expect(sme.get_by_role("heading", name="Check your e-mail")).to_be_visible()
        expect(sme.get_by_text(f"We sent a link to {SME_EMAIL}")).to_be_visible()
        # The link mailed at registration confirms the address and logs the SME in.
        with app.app_context():
            verify = outbox_link(SME_EMAIL, "verify_email", "/account/verify/")
        sme.goto(url + verify)
        sme.get_by_role("button", name="Confirm my address").click()
        expect(sme.get_by_role("heading", name="Company profile")).to_be_visible()
        expect_flash(sme, "is confirmed, and you are logged in")
        sme.get_by_label("Legal name").fill("Lumen Bio B.V.")
        sme.get_by_label("VAT or company registry number").fill("NL852091234B01")
        sme.get_by_label("Country").select_option(label="Netherlands")
        sme.get_by_label("Region").fill("North Brabant")
        sme.get_by_label("Company size").select_option("small")
        sme.get_by_label("Sector").select_option(label="Diagnostics")
        sme.get_by_role("button", name="Save company profile").click()

        expect(sme.get_by_role("heading", name="My applications")).to_be_visible()
        expect_flash(sme, "Company profile saved.")
        sme.get_by_role(
            "link", name=f"Apply for market validation vouchers of {programme['call_title']}"
        ).click()

        expect(sme.get_by_role("heading",
                               name="New market validation voucher application")).to_be_visible()
        sme.get_by_label("Title").fill(TITLE)
        sme.get_by_label("Summary").fill("A market study of sepsis diagnostics in three "
                                         "hospital systems, to price our rapid test.")
        sme.get_by_label("Service provider").select_option(label=programme["provider"])
        sme.get_by_label("Service bought").fill("Interviews with 30 hospital buyers and a "
                                                "pricing study.")
        sme.get_by_label("Service delivered by").fill("2027-06-30")
        sme.get_by_label("Cost line 1: what it is for").fill("Market study by the provider")
        sme.get_by_label("Cost line 1: amount in euros").fill("30000.00")
        sme.get_by_role("button", name="Add a cost line").click()
        # The form comes back with a second line and keeps what was typed.
        expect(sme.get_by_label("Cost line 1: what it is for")).to_have_value(
            "Market study by the provider")
        sme.get_by_label("Cost line 2: what it is for").fill("Travel to the provider's lab")
        sme.get_by_label("Cost line 2: amount in euros").fill("10000.00")
        sme.get_by_label("Amount requested (EUR)").fill(REQUESTED)
        sme.get_by_role("button", name="Save draft").click()

        expect(sme.get_by_role("heading", name=TITLE)).to_be_visible()
        expect_flash(sme, "Draft saved.")
        expect_state(sme, "Draft")
        expect(sme.get_by_text("The application is complete and can be submitted.")
               ).to_be_visible()
        sme.get_by_role("button", name="Submit the application").click()
        expect_flash(sme, "Application submitted.")
        expect_state(sme, "Submitted")
        sme_application_url = sme.url
        shots(sme, "sme-submitted")

        # --- 2. The manager opens it from the table and assigns the evaluator ----------
        log_in(manager, url, programme["manager"])
        manager.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Applications", exact=True).click()
        expect(manager.get_by_role("heading", name=re.compile(r"^Applications"))).to_be_visible()
        row = manager.get_by_role("row").filter(has_text=TITLE)
        expect(row).to_contain_text("Lumen Bio B.V.")
        expect(row).to_contain_text("Submitted")
        row.get_by_role("link").click()

        expect(manager.get_by_role("heading", name=re.compile(re.escape(TITLE)))
               ).to_be_visible()
        expect_state(manager, "Submitted")
        manager_application_url = manager.url.split("#")[0]
        assign = manager.get_by_role("form", name="Assign an evaluator")
        assign.get_by_label("Evaluator", exact=True).select_option(
            str(programme["evaluator_id"]))
        assign.get_by_role("button", name="Assign").click()
        expect_flash(manager, f"{programme['evaluator_name']} assigned.")
        expect_state(manager, "Under review")
        evaluators = manager.get_by_role("region", name="Evaluators")
        expect(evaluators.get_by_role("row", name=programme["evaluator_name"])
               ).to_contain_text("Awaiting review")
        shots(manager, "manager-assigned")

        # --- 3. The evaluator scores every criterion and recommends an award -----------
        log_in(evaluator, url, programme["evaluator"])
        expect(evaluator.get_by_role("heading", name="My assignments")).to_be_visible()
        evaluator.get_by_role("row").filter(has_text=TITLE).get_by_role("link").click()
        # Nothing of the application shows until the evaluator confirms no conflict.
        evaluator.get_by_role("button", name="I have no conflict of interest").click()
        expect(evaluator.get_by_role("heading", name="Your review")).to_be_visible()
        for criterion in programme["criteria"]:
            group = evaluator.get_by_role("group", name=re.compile(
                rf"^{re.escape(criterion)} \(weight"))
            group.get_by_label("4", exact=True).check()
        evaluator.get_by_role("group", name="Recommendation").get_by_label(
            "Award", exact=True).check()
        evaluator.get_by_label("Comment").fill("A clear plan and a credible provider.")
        evaluator.get_by_role("button", name="Submit review").click()
        expect_flash(evaluator, "Your review is submitted.")
        expect(evaluator.get_by_role("heading", name="Your review")).to_have_count(0)
        expect(evaluator.get_by_text("A clear plan and a credible provider.")).to_be_visible()
        shots(evaluator, "evaluator-reviewed")

        # --- 4. The manager awards -------------------------------------------------------
        manager.goto(manager_application_url)
        evaluators = manager.get_by_role("region", name="Evaluators")
        expect(evaluators.get_by_role("row", name=programme["evaluator_name"])
               ).to_contain_text("Review submitted")
        award = manager.get_by_role("form", name="Award", exact=True)
        award.get_by_label("Amount awarded (€)").fill(AWARDED)
        award.get_by_role("button", name="Award", exact=True).click()
        expect_flash(manager, "Voucher awarded.")
        expect_state(manager, "Awarded")
        shots(manager, "manager-awarded")

        # --- 5. The SME writes and submits the final report ------------------------------
        sme.goto(sme_application_url)
        expect_state(sme, "Awarded")
        sme.get_by_role("button", name="Start the final report").click()
        expect(sme.get_by_role("heading", name="Final report")).to_be_visible()
        sme.get_by_label("What was done").fill("The provider interviewed 30 hospital buyers; "
                                               "the study sets our price at €45 a test.")
        sme.get_by_label("Actual eligible costs (EUR)").fill(ACTUAL_COSTS)
        sme.get_by_role("button", name="Submit final report").click()
        expect_flash(sme, "Final report submitted.")
        expect_state(sme, "Report submitted")
        shots(sme, "sme-report-submitted")

        # --- 6. The manager approves the report and records the payment ------------------
        manager.goto(manager_application_url)
        expect_state(manager, "Report submitted")
        approve = manager.get_by_role("form", name="Approve final report")
        approve.get_by_role("button", name="Approve final report").click()
        expect_flash(manager, "Final report approved.")
        expect_state(manager, "Completed")
        report = manager.get_by_role("region", name="Final report")
        expect(report).to_contain_text("€27,000.00")
        payment = manager.get_by_role("form", name="Record payment")
        expect(payment).to_contain_text("final payment due: €27,000.00")
        payment.get_by_label("Amount paid (€)").fill(f"{PAYABLE:.2f}")
        payment.get_by_label("Payment reference").fill("PAY-2027-0042")
        payment.get_by_role("button", name="Record payment").click()
        expect_flash(manager, "Payment recorded.")
        expect_state(manager, "Paid")
        shots(manager, "manager-paid")

        # --- 7. The applicant sees the voucher paid --------------------------------------
        sme.goto(sme_application_url)
        expect_state(sme, "Paid")
        payments = sme.get_by_role("region", name="Payments received")
        expect(payments).to_contain_text("€27,000.00 of €28,000.00")
        expect(payments.get_by_role("row").filter(has_text="PAY-2027-0042")
               ).to_contain_text("€27,000.00")
        expect(sme.get_by_role("region", name="History")).to_contain_text("Completed → Paid")
        shots(sme, "sme-sees-paid")
    finally:
        for context in contexts.values():
            context.close()

    # --- The database agrees with what the pages showed -----------------------------------
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.title == TITLE))
        assert application.state == "paid"
        assert application.awarded_amount == Decimal(AWARDED)
        assert settlement.payable(application) == PAYABLE
        assert application.paid_amount == PAYABLE == application.committed_amount
        assert application.outstanding == 0
        assert [p.amount for p in db.session.scalars(
            select(Payment).where(Payment.application_id == application.id))] == [PAYABLE]
        triggers = list(db.session.scalars(
            select(AuditRecord.trigger).where(AuditRecord.application_id == application.id)
            .order_by(AuditRecord.id)
        ))
        assert triggers == EXPECTED_TRIGGERS
        db.session.remove()
