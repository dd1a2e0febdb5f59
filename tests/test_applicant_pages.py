"""The applicant's pages, driven through the test client as a browser without JS would."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import PASSWORD, PATHS
from tests.helpers import PDF, login, upload
from vouchers import voucher_types
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, Attachment, AuditRecord, Organisation, Payment
from vouchers.models.base import utcnow
from vouchers.services import payments, reporting, transitions
from vouchers.services.applications import update_draft
from vouchers.services.errors import InvalidInput, NotAllowed, TransitionNotAllowed


def text(response) -> str:
    return response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def applicant(make):
    return make.applicant()


@pytest.fixture
def logged_in(client, applicant):
    login(client, applicant)
    return applicant


def app_url(application, suffix: str = "") -> str:
    return f"/apply/applications/{application.id}{suffix}"


# --- home and company profile --------------------------------------------------------


def test_real_login_leads_to_the_applicant_pages(client, make):
    applicant = make.applicant()
    client.post("/account/login", data={"email": applicant.email, "password": PASSWORD})
    response = client.get("/apply/")
    assert response.status_code == 200
    assert "My applications" in text(response)


def test_home_without_a_profile_asks_for_one(client, make):
    call = make.call()
    user = make.user("applicant")
    login(client, user)
    page = text(client.get("/apply/"))
    assert "Describe your company first" in page
    assert "/apply/profile" in page
    assert call.title in page
    assert "/apply/new/" not in page  # no start buttons before the profile exists
    # Starting an application without a profile leads to the profile.
    response = client.get(f"/apply/new/{call.voucher_types[0].id}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/apply/profile")


def test_home_lists_my_applications_and_a_button_per_open_voucher_type(client, make,
                                                                       logged_in):
    call = make.call()
    closed = make.call(open_now=False)
    mine = make.application("submitted", call.voucher_type("travel"), applicant=logged_in)
    theirs = make.application("draft", call.voucher_type("impact"))
    page = text(client.get("/apply/"))
    assert mine.reference in page and "Submitted" in page
    assert theirs.reference not in page
    for cvt in call.voucher_types:
        assert f'href="/apply/new/{cvt.id}"' in page
    assert closed.title not in page
    assert 'href="/apply/profile"' in page  # the menu entry


def test_profile_is_created_once_and_links_the_applicant(client, make):
    user = make.user("applicant")
    login(client, user)
    assert "Company profile" in text(client.get("/apply/profile"))
    response = client.post("/apply/profile", data={
        "legal_name": "Aarhus Cell Dynamics ApS", "registry_number": "dk 1358 5628",
        "country": "DK", "region": "Central Denmark", "size": "micro", "sector": "biotech",
    })
    assert response.status_code == 303
    db.session.refresh(user)
    org = user.organisation
    assert org.legal_name == "Aarhus Cell Dynamics ApS"
    assert org.registry_number == "DK13585628"
    # Editing changes the same organisation.
    client.post("/apply/profile", data={
        "legal_name": "Aarhus Cell Dynamics ApS", "registry_number": "DK13585628",
        "country": "DK", "region": "Central Denmark", "size": "small", "sector": "biotech",
    })
    db.session.expire_all()
    assert count(Organisation) == 1
    assert user.organisation.size == "small"


def test_profile_details_the_programme_relies_on_freeze_once_an_application_is_in(client,
                                                                                   make):
    applicant = make.applicant()
    make.application("submitted", applicant=applicant)
    org = applicant.organisation
    login(client, applicant)
    fields = {"legal_name": org.legal_name, "registry_number": org.registry_number,
              "country": org.country, "region": org.region, "size": "medium",
              "sector": "medtech"}
    page = text(client.get("/apply/profile"))
    # Shown, but not as something to edit: the frozen fields are disabled, the others not.
    for name in ("legal_name", "registry_number", "country", "region"):
        assert re.search(rf'<(input|select)[^>]*\bdisabled\b[^>]*name="{name}"', page), name
    for name in ("size", "sector"):
        assert not re.search(rf'<select[^>]*\bdisabled\b[^>]*name="{name}"', page), name
    assert "can no longer be changed here" in page
    assert client.post("/apply/profile", data=fields).status_code == 303  # size and sector
    # A browser sends nothing for disabled fields; a crafted request's values are ignored.
    response = client.post("/apply/profile", data={"size": "small", "sector": "medtech"})
    assert response.status_code == 303
    response = client.post("/apply/profile", data={**fields, "country": "IE"})
    assert response.status_code == 303
    db.session.expire_all()
    assert (org.country, org.size, org.legal_name) == ("NL", "medium", fields["legal_name"])


def test_a_profile_before_any_submission_is_wholly_editable(client, make):
    applicant = make.applicant()
    make.application("draft", applicant=applicant)
    login(client, applicant)
    page = text(client.get("/apply/profile"))
    assert "disabled" not in page.split('<form method="post" action="/apply/profile"')[1]


def test_profile_refuses_a_registry_number_of_another_company(client, make):
    other = make.organisation()
    user = make.user("applicant")
    login(client, user)
    response = client.post("/apply/profile", data={
        "legal_name": "Copycat Ltd", "registry_number": other.registry_number.lower(),
        "country": "UK", "region": "Kent", "size": "small", "sector": "medtech",
    })
    assert response.status_code == 422
    page = text(response)
    # The refusal concerns the whole profile: it is shown before the fields, not under the
    # last one.
    form = page.split('<form method="post" action="/apply/profile"')[1]
    assert form.index("already registered") < form.index('name="legal_name"')
    assert form.index('role="alert"') < form.index('name="legal_name"')
    db.session.refresh(user)
    assert user.organisation_id is None
    assert count(Organisation) == 1


def test_profile_shows_bad_input_next_to_its_field(client, make):
    user = make.user("applicant")
    login(client, user)
    response = client.post("/apply/profile", data={
        "legal_name": "", "registry_number": "NL123456789", "country": "XX",
        "region": "Limburg", "size": "small", "sector": "biotech",
    })
    page = text(response)
    assert response.status_code == 400
    assert 'id="legal_name-errors"' in page
    assert 'id="country-errors"' in page
    assert count(Organisation) == 0


# --- writing an application ------------------------------------------------------------


def form_data(**overrides):
    data = {"title": "Market study in DE and FR", "summary": "We test demand.",
            "requested_amount": "30000.00", "service": "Market study in two markets",
            "delivery_date": "2027-06-30",
            "cost_lines-0-description": "Market study", "cost_lines-0-amount": "40000"}
    data.update(overrides)
    return data


def test_validation_form_offers_active_providers_with_country(client, make, logged_in):
    call = make.call()
    provider = make.provider()
    retired = make.provider()
    retired.active = False
    db.session.commit()
    page = text(client.get(f"/apply/new/{call.voucher_type('market_validation').id}"))
    assert f"{provider.name} (DE, Bavaria)" in page
    assert retired.name not in page
    assert '<label for="provider_id">Service provider</label>' in page


def test_more_cost_lines_than_allowed_are_refused_not_cut(client, make, logged_in):
    from vouchers.applicant.forms import MAX_COST_LINES

    cvt = make.call().voucher_type("market_validation")
    lines = {}
    for i in range(MAX_COST_LINES + 1):
        lines[f"cost_lines-{i}-description"] = f"Cost {i}"
        lines[f"cost_lines-{i}-amount"] = "100"
    response = client.post(f"/apply/new/{cvt.id}", data=form_data(**lines))
    assert response.status_code == 400
    assert f"At most {MAX_COST_LINES} cost lines" in text(response)
    assert count(Application) == 0


def test_cost_lines_are_added_and_removed_without_saving(client, make, logged_in):
    cvt = make.call().voucher_type("market_validation")
    url = f"/apply/new/{cvt.id}"
    response = client.post(url, data=form_data(add_line="Add a cost line"))
    page = text(response)
    assert response.status_code == 200
    assert 'name="cost_lines-1-description"' in page
    assert 'value="Market study"' in page  # what was typed stays
    # An invalid amount is kept on screen but not reported (or saved) until "Save".
    response = client.post(url, data=form_data(**{
        "cost_lines-1-description": "Travel", "cost_lines-1-amount": "abc",
        "cost_lines-0-remove": "1",
    }))
    page = text(response)
    assert 'name="cost_lines-0-description"' not in page
    assert 'name="cost_lines-1-description"' in page and 'value="abc"' in page
    assert "is not an amount" not in page
    assert count(Application) == 0


def test_saving_a_validation_draft(client, make, logged_in):
    cvt = make.call().voucher_type("market_validation")
    provider = make.provider()
    response = client.post(f"/apply/new/{cvt.id}", data=form_data(**{
        "provider_id": str(provider.id),
        "cost_lines-1-description": "Provider travel", "cost_lines-1-amount": "2500.5",
        "cost_lines-2-description": "", "cost_lines-2-amount": "",  # a blank line is ignored
        "save": "Save draft",
    }))
    assert response.status_code == 303
    application = db.session.scalar(select(Application))
    assert response.headers["Location"].endswith(app_url(application))
    assert application.state == "draft"
    assert application.provider_id == provider.id
    assert application.details == {"service": "Market study in two markets",
                                   "delivery_date": "2027-06-30"}
    assert [(c.description, c.amount) for c in application.cost_lines] == [
        ("Market study", Decimal("40000.00")), ("Provider travel", Decimal("2500.50"))]
    assert application.requested_amount == Decimal("30000.00")
    page = text(client.get(app_url(application)))
    assert "The application is complete and can be submitted." in page
    assert "Market study in two markets" in page and provider.name in page


def test_invalid_input_saves_nothing_and_is_shown_next_to_the_field(client, make, logged_in):
    cvt = make.call().voucher_type("travel")
    response = client.post(f"/apply/new/{cvt.id}", data={
        "title": "", "event": "BIO-Europe", "destination": "Copenhagen",
        "start_date": "2027-03-05", "end_date": "2027-03-01", "requested_amount": "-5",
        "cost_lines-0-description": "Flight", "cost_lines-0-amount": "1.234,50",
        "save": "Save draft",
    })
    page = text(response)
    assert response.status_code == 400
    assert 'id="title-errors"' in page
    assert "The trip cannot end before it starts." in page
    assert "cannot be negative" in page
    assert "with a dot for cents" in page
    assert count(Application) == 0


def test_travel_and_impact_drafts_keep_their_own_fields(client, make, logged_in):
    call = make.call()
    client.post(f"/apply/new/{call.voucher_type('travel').id}", data={
        "title": "BIO-Europe partnering", "summary": "Meet partners.",
        "event": "BIO-Europe", "destination": "Copenhagen, Denmark",
        "start_date": "2027-11-02", "end_date": "2027-11-04", "requested_amount": "2500",
        "cost_lines-0-description": "Flights", "cost_lines-0-amount": "900",
        "cost_lines-1-description": "Partnering fee", "cost_lines-1-amount": "1600",
    })
    client.post(f"/apply/new/{call.voucher_type('impact').id}", data={
        "title": "Payer evidence", "summary": "Health economics.", "outcome": "Reimbursement",
        "indicators": "Two payer meetings", "requested_amount": "20000",
        "cost_lines-0-description": "Model", "cost_lines-0-amount": "40000",
    })
    travel, impact = db.session.scalars(select(Application).order_by(Application.id)).all()
    assert travel.details == {"event": "BIO-Europe", "destination": "Copenhagen, Denmark",
                              "start_date": "2027-11-02", "end_date": "2027-11-04"}
    assert travel.provider_id is None
    assert impact.details == {"outcome": "Reimbursement", "indicators": "Two payer meetings"}
    assert transitions.completeness_problems(travel) == []
    assert transitions.completeness_problems(impact) == []


def test_an_incomplete_draft_lists_what_is_missing(client, make, logged_in):
    cvt = make.call().voucher_type("product_validation")
    client.post(f"/apply/new/{cvt.id}", data={"title": "Bench tests"})
    application = db.session.scalar(select(Application))
    page = text(client.get(app_url(application)))
    assert "Still missing" in page
    assert "Choose a service provider" in page and "Add at least one cost line" in page


def test_a_closed_call_takes_no_new_application(client, make, logged_in):
    cvt = make.call(open_now=False).voucher_type("travel")
    response = client.post(f"/apply/new/{cvt.id}", data={"title": "Late"})
    assert response.status_code == 303
    assert count(Application) == 0
    assert "is not open for applications" in text(client.get("/apply/"))


def test_editing_a_draft_replaces_its_cost_lines(client, make, logged_in):
    application = make.application("draft", applicant=logged_in)
    page = text(client.get(app_url(application, "/edit")))
    assert f'value="{application.title}"' in page
    assert f'<option selected value="{application.provider_id}">' in page
    response = client.post(app_url(application, "/edit"), data=form_data(**{
        "provider_id": str(application.provider_id), "title": "New title",
        "cost_lines-0-description": "Only line", "cost_lines-0-amount": "50000",
        "save": "Save draft",
    }))
    assert response.status_code == 303
    db.session.expire_all()
    assert application.title == "New title"
    assert [c.description for c in application.cost_lines] == ["Only line"]


def test_a_returned_application_shows_the_comment_and_can_be_edited(client, make, logged_in):
    application = make.application("returned", applicant=logged_in)
    page = text(client.get(app_url(application)))
    assert "Changes asked for by the programme" in page and "Add the quote." in page
    assert app_url(application, "/edit") in page
    response = client.post(app_url(application, "/edit"), data=form_data(
        provider_id=str(application.provider_id), title="With the quote"))
    assert response.status_code == 303
    db.session.expire_all()
    assert application.title == "With the quote"


def test_a_submitted_application_cannot_be_edited(client, make, logged_in):
    application = make.application("submitted", applicant=logged_in)
    title = application.title
    response = client.post(app_url(application, "/edit"), data=form_data(title="Sneaky"))
    assert response.status_code == 303
    assert "can no longer be changed" in text(client.get(app_url(application)))
    db.session.expire_all()
    assert application.title == title


def test_update_draft_rules(make):
    applicant = make.applicant()
    application = make.application("draft", applicant=applicant)
    other = make.applicant()
    with pytest.raises(NotAllowed):
        update_draft(application, other, {"title": "Mine now"})
    retired = make.provider()
    retired.active = False
    db.session.commit()
    with pytest.raises(InvalidInput, match="catalogue"):
        update_draft(application, applicant, {"provider_id": retired.id})
    with pytest.raises(InvalidInput, match="Cost line 1"):
        update_draft(application, applicant, {}, [("Study", "0")])
    with pytest.raises(InvalidInput):
        update_draft(application, applicant, {"requested_amount": "12,5"})
    travel = make.application("draft", make.call().voucher_type("travel"), applicant=applicant)
    with pytest.raises(InvalidInput, match="service provider"):
        update_draft(travel, applicant, {"provider_id": application.provider_id})
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        update_draft(travel, applicant, {"start_date": "next week"})
    transitions.submit(application, applicant)
    with pytest.raises(TransitionNotAllowed, match="submitted"):
        update_draft(application, applicant, {"title": "Late change"})


# --- submit and withdraw --------------------------------------------------------------


def test_submitting_an_incomplete_application_is_refused_next_to_the_button(client, make,
                                                                            logged_in):
    application = make.application("draft", applicant=logged_in)
    application.cost_lines = []
    db.session.commit()
    response = client.post(app_url(application, "/submit"))
    page = text(response)
    assert response.status_code == 422
    assert "The application is incomplete: add at least one cost line" in page
    db.session.expire_all()
    assert application.state == "draft"


def test_submitting_after_the_call_closed_is_refused(client, make, logged_in):
    application = make.application("draft", applicant=logged_in)
    application.call.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(app_url(application, "/submit"))
    assert response.status_code == 422
    assert "The call is not open for submissions." in text(response)
    db.session.expire_all()
    assert application.state == "draft"


def test_submitting_a_complete_application(client, make, logged_in):
    application = make.application("draft", applicant=logged_in)
    response = client.post(app_url(application, "/submit"))
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == "submitted"
    page = text(client.get(app_url(application)))
    assert "Application submitted" in page
    assert "Draft → Submitted" in page  # the history
    assert app_url(application, "/submit") not in page
    assert app_url(application, "/withdraw") in page


def test_withdrawing_asks_for_confirmation_first(client, make, logged_in):
    application = make.application("submitted", applicant=logged_in)
    page = text(client.get(app_url(application, "/withdraw")))
    assert "cannot be submitted again" in page and "Withdraw the application" in page
    db.session.expire_all()
    assert application.state == "submitted"
    response = client.post(app_url(application, "/withdraw"), data={"reason": "Plans changed"})
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == "withdrawn"
    record = db.session.scalar(select(AuditRecord).where(AuditRecord.to_state == "withdrawn"))
    assert record.comment == "Plans changed" and record.actor_id == logged_in.id


def test_withdrawing_a_decided_application_is_refused(client, make, logged_in):
    application = make.application("rejected", applicant=logged_in)
    response = client.get(app_url(application, "/withdraw"))
    assert response.status_code == 303
    response = client.post(app_url(application, "/withdraw"), data={"reason": "x"})
    assert response.status_code == 422
    assert "Not possible now: the application is rejected" in text(response)
    db.session.expire_all()
    assert application.state == "rejected"


# --- voucher, final report, payments, cancel ------------------------------------------


def test_final_report_from_start_to_submission(client, make, logged_in):
    application = make.application("awarded", applicant=logged_in)
    page = text(client.get(app_url(application)))
    assert "Start the final report" in page
    response = client.post(app_url(application, "/report/start"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(app_url(application, "/report"))
    db.session.expire_all()
    assert application.state == "reporting"

    # Submitting without the actual costs is refused and keeps nothing.
    response = client.post(app_url(application, "/report"), data={
        "summary": "We ran the study.", "actual_costs": "", "submit_report": "Submit"})
    assert response.status_code == 422
    page = text(response)
    assert "needs a description of the work and the actual costs" in page
    assert "We ran the study." in page
    assert reporting.final_report_of(application).summary == ""

    response = client.post(app_url(application, "/report"), data={
        "summary": "We ran the study.", "actual_costs": "41000.00", "save": "Save"})
    assert response.status_code == 303
    assert reporting.final_report_of(application).actual_costs == Decimal("41000.00")
    assert upload(client, application, PDF, "invoice.pdf", purpose="report").status_code == 303
    response = client.post(app_url(application, "/report"), data={
        "summary": "We ran the study.", "actual_costs": "41000.00", "submit_report": "Submit"})
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == "report_submitted"
    assert reporting.final_report_of(application).status == "submitted"
    page = text(client.get(app_url(application, "/report")))
    assert "invoice.pdf" in page
    assert 'name="summary"' not in page  # no longer editable


def test_a_returned_report_shows_the_managers_comment(client, make, logged_in):
    application = make.application("report_submitted", applicant=logged_in)
    manager = make.manager()
    reporting.return_report(application, manager, "Attach the provider's invoice.")
    db.session.commit()
    for url in (app_url(application), app_url(application, "/report")):
        assert "Attach the provider&#39;s invoice." in text(client.get(url))


def test_payments_received_and_paid_versus_awarded(client, make, logged_in):
    application = make.application("completed", applicant=logged_in, costs="40000")
    manager = make.manager()
    payments.record_payment(application, manager, "10000", paid_on=today(),
                       reference="INT-2027-0042")
    db.session.commit()
    page = text(client.get(app_url(application)))
    assert "Payments received" in page
    assert f"{today():%d %b %Y}" in page and "INT-2027-0042" in page and "€10,000.00" in page
    assert f"€10,000.00 of €{application.awarded_amount:,.2f}" in page
    assert count(Payment) == 1


def test_cancelling_a_voucher_needs_a_reason(client, make, logged_in):
    application = make.application("awarded", applicant=logged_in)
    assert app_url(application, "/cancel") in text(client.get(app_url(application)))
    assert "gives the voucher up" in text(client.get(app_url(application, "/cancel")))
    response = client.post(app_url(application, "/cancel"), data={"reason": " "})
    assert response.status_code == 422
    assert "Give the reason for cancelling." in text(response)
    db.session.expire_all()
    assert application.state == "awarded"
    response = client.post(app_url(application, "/cancel"),
                           data={"reason": "The provider went out of business."})
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == "cancelled"
    assert application.call_voucher_type.committed == Decimal("0.00")


# --- nobody reaches another company's data --------------------------------------------


def _applicant_rules(app):
    return [r for r in app.url_map.iter_rules()
            if r.endpoint.startswith("applicant.") and "application_id" in r.arguments]


@pytest.mark.parametrize("state", ["draft", "awarded", "reporting"])
def test_every_applicant_route_answers_404_for_another_company(app, client, make, state):
    owner = make.applicant()
    intruder = make.applicant()
    assert owner.organisation_id != intruder.organisation_id
    application = make.application("draft", applicant=owner)
    login(client, owner)
    assert upload(client, application, PDF, "quote.pdf").status_code == 303
    manager = make.manager()
    for step in PATHS[state]:
        make.step(application, step, applicant=owner, manager=manager)
    if state == "reporting":
        assert upload(client, application, PDF, "invoice.pdf", purpose="report").status_code == 303
    attachments = db.session.scalars(select(Attachment)).all()
    attachment = attachments[-1]
    before = (application.state, application.version)

    login(client, intruder)
    rules = _applicant_rules(app)
    assert len(rules) >= 9
    for rule in rules:
        url = rule.build({"application_id": application.id, "attachment_id": attachment.id},
                         append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={
                "reason": "mine", "title": "Taken", "purpose": attachment.purpose,
                "summary": "x"})
            assert response.status_code == 404, (method, url, response.status_code)
    for a in attachments:
        assert client.get(f"/files/{a.id}").status_code == 404
    db.session.expire_all()
    assert (application.state, application.version) == before
    assert len(db.session.scalars(select(Attachment)).all()) == len(attachments)


def test_an_attachment_of_another_application_is_not_reachable_through_mine(client, make):
    owner = make.applicant()
    mine = make.application("draft", applicant=owner)
    theirs = make.application("draft")
    login(client, theirs.applicant)
    upload(client, theirs, PDF, "their-quote.pdf")
    attachment = db.session.scalar(select(Attachment))
    login(client, owner)
    response = client.post(app_url(mine, f"/attachments/{attachment.id}/delete"))
    assert response.status_code == 404
    assert db.session.get(Attachment, attachment.id) is not None


def test_other_roles_and_anonymous_users_do_not_reach_applicant_pages(client, make):
    application = make.application("draft")
    response = client.get("/apply/")
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    login(client, make.manager())
    assert client.get("/apply/").status_code == 404
    assert client.get(app_url(application)).status_code == 404
    login(client, make.evaluator())
    assert client.get("/apply/profile").status_code == 404


@pytest.mark.parametrize("state", list(PATHS))
def test_the_application_page_works_in_every_state(client, make, logged_in, state):
    application = make.application(state, applicant=logged_in)
    response = client.get(app_url(application))
    page = text(response)
    assert response.status_code == 200
    assert application.reference in page and "History" in page
    report = client.get(app_url(application, "/report"))
    has_report = reporting.final_report_of(application) is not None
    assert report.status_code == (200 if has_report else 303)
    if state in ("awarded", "reporting"):
        assert app_url(application, "/cancel") in page
    else:
        assert app_url(application, "/cancel") not in page


def _token(page: str) -> str:
    import re

    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_forms_carry_a_csrf_token_and_posts_without_one_are_refused(app, client, make,
                                                                    logged_in, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    application = make.application("draft", applicant=logged_in)
    assert client.post(app_url(application, "/submit")).status_code == 400
    assert upload(client, application, PDF, "quote.pdf").status_code == 400
    assert client.post("/apply/profile", data={"legal_name": "x"}).status_code == 400
    db.session.expire_all()
    assert application.state == "draft"

    page = text(client.get(app_url(application)))
    assert upload(client, application, PDF, "quote.pdf",
                  headers={"X-CSRFToken": _token(page)}).status_code == 303
    page = text(client.get(app_url(application, "/edit")))
    response = client.post(app_url(application, "/edit"), data=form_data(
        csrf_token=_token(page), add_line="Add a cost line"))
    assert response.status_code == 200
    page = text(client.get(app_url(application)))
    response = client.post(app_url(application, "/submit"), data={"csrf_token": _token(page)})
    assert response.status_code == 303
    db.session.expire_all()
    assert application.state == "submitted"


def test_a_draft_keeps_its_provider_after_it_leaves_the_catalogue(client, make):
    applicant = make.applicant()
    draft = make.application("draft", make.call().voucher_type("market_validation"),
                             applicant=applicant)
    provider = draft.provider
    provider.active = False
    db.session.commit()
    login(client, applicant)
    form = text(client.get(f"/apply/applications/{draft.id}/edit"))
    assert f"{provider.name} (DE, Bavaria) (no longer in the catalogue)" in form
    inputs = [i for i in re.findall(r"<input[^>]*>", form) if 'type="submit"' not in i]
    fields = dict(re.search(r'name="([^"]+)"[^>]*value="([^"]*)"', i).groups()
                  for i in inputs if "value=" in i)
    fields.update({"provider_id": str(provider.id), "summary": "Still the same plan.",
                   "service": "Market study"})
    response = client.post(f"/apply/applications/{draft.id}/edit", data=fields)
    assert response.status_code == 303
    db.session.expire_all()
    assert draft.provider_id == provider.id and draft.summary == "Still the same plan."
    page = text(client.get(f"/apply/applications/{draft.id}"))
    assert "The chosen service provider has left the catalogue; choose another" in page


# --- the voucher-type registry drives the forms -----------------------------------------


@pytest.mark.parametrize("code", list(voucher_types.REGISTRY))
def test_each_voucher_types_form_asks_the_registrys_questions(client, make, logged_in, code):
    kind = voucher_types.get(code)
    cvt = make.call().voucher_type(code)
    page = text(client.get(f"/apply/new/{cvt.id}"))
    for detail in kind.details:
        assert f'<label for="{detail.key}">{detail.label}</label>' in page
        widget = {"long_text": rf'<textarea[^>]*name="{detail.key}"',
                  "date": rf'<input[^>]*name="{detail.key}"[^>]*type="date"'}.get(
            detail.kind, rf'<input[^>]*name="{detail.key}"[^>]*type="text"')
        assert re.search(widget, page), detail.key
        if detail.description:
            assert detail.description in page
    assert ('name="provider_id"' in page) == kind.needs_provider


def test_a_title_with_a_direction_override_is_refused_and_nothing_is_stored(client, make,
                                                                           logged_in):
    cvt = make.call().voucher_type("market_validation")
    response = client.post(f"/apply/new/{cvt.id}",
                           data=form_data(title="Study \u202etxt.exe", save="Save draft"))
    assert response.status_code == 422
    assert "The title contains an invisible or direction-changing character" in text(response)
    assert count(Application) == 0
    draft = make.application("draft", applicant=logged_in)
    with pytest.raises(InvalidInput, match="U\\+200B"):
        update_draft(draft, logged_in, {"title": "Zero\u200bwidth"})
