"""The manager's companies pages: find an SME, correct its details with a reason."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import event, select

from tests.helpers import login, snapshot
from tests.test_operations import refused
from vouchers.extensions import db
from vouchers.models import ChangeRecord
from vouchers.services import organisations
from vouchers.services.errors import ConstraintClash, InvalidInput, NotAllowed
from vouchers.services.organisations import correct_organisation


def text(response) -> str:
    return response.get_data(as_text=True)


def fields_of(org, **changes) -> dict:
    data = {"legal_name": org.legal_name, "registry_number": org.registry_number,
            "country": org.country, "region": org.region, "size": org.size,
            "sector": org.sector, "reason": "Register extract of 3 March."}
    data.update(changes)
    return data


@pytest.fixture
def manager(client, make):
    manager = make.manager()
    login(client, manager)
    return manager


def test_companies_are_listed_with_their_applications_and_searchable(client, make, manager):
    applicant = make.applicant()
    make.application("submitted", applicant=applicant)
    other = make.applicant().organisation
    employer = make.organisation()
    make.evaluator(organisation=employer)  # an evaluator's employer is not an SME
    org = applicant.organisation
    page = text(client.get("/manage/organisations"))
    assert '<a href="/manage/organisations">Companies</a>' in page  # in the manager's menu
    assert "Companies 1–2 of 2" in page
    assert org.legal_name in page and other.legal_name in page
    assert employer.legal_name not in page
    assert f'href="/manage/organisations/{org.id}"' in page
    row = page.split(org.legal_name, 1)[1].split("</tr>", 1)[0]
    assert f"<td>{org.registry_number}</td>" in row and "<td>1</td>" in row
    assert 'scope="col"' in page and 'scope="row"' in page

    # By part of the name, any case; by registry number written as the applicant might.
    page = text(client.get("/manage/organisations", query_string={"q": org.legal_name.lower()}))
    assert "Companies 1–1 of 1" in page and other.legal_name not in page
    number = org.registry_number
    spaced = f"{number[:2].lower()} {number[2:6]}.{number[6:]}"
    page = text(client.get("/manage/organisations", query_string={"q": spaced}))
    assert "Companies 1–1 of 1" in page and org.legal_name in page
    page = text(client.get("/manage/organisations", query_string={"q": "nothing like it"}))
    assert "No company matches this search." in page
    page = text(client.get("/manage/organisations", query_string={"q": "%"}))
    assert "No company matches this search." in page


def test_companies_are_paginated(client, make, manager):
    for _ in range(52):
        make.applicant()
    page = text(client.get("/manage/organisations"))
    assert "Companies 1–50 of 52" in page and "page=2" in page
    page = text(client.get("/manage/organisations", query_string={"page": 2}))
    assert "Companies 51–52 of 52" in page


def test_application_page_links_to_the_correction(client, make, manager):
    application = make.application("submitted")
    page = text(client.get(f"/manage/applications/{application.id}"))
    assert f'href="/manage/organisations/{application.organisation_id}"' in page
    assert "Correct company details" in page


def test_manager_corrects_frozen_details_and_the_change_is_logged(client, make, manager,
                                                                 caplog):
    applicant = make.applicant()
    application = make.application("submitted", applicant=applicant)
    org = applicant.organisation
    old_name, old_number = org.legal_name, org.registry_number
    page = text(client.get(f"/manage/organisations/{org.id}"))
    assert f"Correct the details of {old_name}" in page
    assert '<label for="reason">Reason for the correction</label>' in page
    assert application.reference in page and applicant.email in page
    with caplog.at_level(logging.INFO, logger="vouchers"):
        response = client.post(f"/manage/organisations/{org.id}", data=fields_of(
            org, legal_name="Renamed Biotech B.V.", registry_number="be 0403.170.701",
            country="BE", region="Flanders", reason="Register extract\nof 3 March."))
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/manage/organisations")
    db.session.expire_all()
    assert (org.legal_name, org.registry_number, org.country, org.region) == (
        "Renamed Biotech B.V.", "BE0403170701", "BE", "Flanders")
    assert org.size == "small"
    [record] = [r for r in caplog.records if "corrected by" in r.getMessage()]
    message = record.getMessage()
    assert f"organisation {org.id} corrected by {manager.email}" in message
    assert f"legal name '{old_name}' -> 'Renamed Biotech B.V.'" in message
    assert f"registry number '{old_number}' -> 'BE0403170701'" in message
    assert "country 'NL' -> 'BE'" in message
    assert "region 'North Brabant' -> 'Flanders'" in message
    assert "size" not in message.split("reason:")[0]  # unchanged fields are not listed
    assert "reason: 'Register extract\\nof 3 March.'" in message  # one log line
    assert "\n" not in message
    assert "Renamed Biotech B.V." in text(client.get(response.headers["Location"]))


# A form the browser could not have sent right (a required field left empty) is a 400; a
# correction the service refuses is a 422.
@pytest.mark.parametrize("change, message, status", [
    ({"registry_number": "taken"}, "Another company is already registered with registry number",
     422),
    ({"reason": "   "}, "Give the reason for the correction.", 422),
    ({"reason": ""}, "Give the reason for the correction.", 400),
    ({"legal_name": ""}, "This field is required.", 400),
    ({"country": "XX"}, "Not a valid choice", 400),
    ({"legal_name": "Renamed\u202e B.V."}, "The company&#39;s legal name contains an invisible "
     "or direction-changing character (a text-direction control, U+202E)", 422),
    ({"region": "Flanders\u200b"}, "The region contains an invisible", 422),
    ({}, "Nothing to correct", 422),
])
def test_a_refused_correction_shows_why_and_changes_nothing(client, make, manager, caplog,
                                                            change, message, status):
    applicant = make.applicant()
    make.application("submitted", applicant=applicant)
    org = applicant.organisation
    if change.get("registry_number") == "taken":
        change = {"registry_number": make.organisation().registry_number.lower()}
    before = snapshot()
    with caplog.at_level(logging.INFO, logger="vouchers"):
        data = {**fields_of(org, legal_name="Renamed B.V."), **change} if change else fields_of(org)
        response = client.post(f"/manage/organisations/{org.id}", data=data)
    assert response.status_code == status
    page = text(response)
    assert message in page
    assert f"Correct the details of {org.legal_name}" in page
    assert snapshot() == before
    assert not any("corrected by" in r.getMessage() for r in caplog.records)


def test_a_bad_stored_country_must_be_corrected_too(client, make, manager):
    # A country no longer valid (imported data) is offered, but the service refuses it.
    applicant = make.applicant(country="XX")
    org = applicant.organisation
    before = snapshot()
    response = client.post(f"/manage/organisations/{org.id}",
                           data=fields_of(org, legal_name="Renamed B.V."))
    assert response.status_code == 422
    assert "Give the country as its two-letter ISO code" in text(response)
    assert snapshot() == before
    response = client.post(f"/manage/organisations/{org.id}",
                           data=fields_of(org, legal_name="Renamed B.V.", country="DE"))
    assert response.status_code == 303
    db.session.expire_all()
    assert (org.legal_name, org.country) == ("Renamed B.V.", "DE")


def test_correction_service_refuses_non_managers_and_missing_reasons(app, make):
    applicant = make.applicant()
    org = applicant.organisation
    fields = fields_of(org, legal_name="Renamed B.V.")
    for user in (applicant, make.evaluator()):
        refused(lambda user=user: correct_organisation(org, user, **fields), NotAllowed,
                "Only programme managers")
    manager = make.manager()
    refused(lambda: correct_organisation(org, manager, **{**fields, "reason": " \n"}),
            InvalidInput, "Give the reason")
    refused(lambda: correct_organisation(org, manager, **{**fields, "country": "XX"}),
            InvalidInput, "two-letter ISO code")
    taken = make.organisation().registry_number
    refused(lambda: correct_organisation(org, manager, **{**fields, "registry_number": taken}),
            InvalidInput, "already registered")
    assert correct_organisation(org, manager, **fields) == ["legal name"]


@pytest.mark.parametrize("role", ["applicant", "evaluator"])
def test_other_roles_get_404(client, make, role):
    org = make.applicant().organisation
    user = make.applicant() if role == "applicant" else make.evaluator()
    login(client, user)
    before = snapshot()
    assert client.get("/manage/organisations").status_code == 404
    assert client.get(f"/manage/organisations/{org.id}").status_code == 404
    response = client.post(f"/manage/organisations/{org.id}",
                           data=fields_of(org, legal_name="Hijacked Ltd"))
    assert response.status_code == 404
    assert snapshot() == before


def test_unknown_company_and_evaluator_employer_are_404(client, make, manager):
    employer = make.organisation()
    make.evaluator(organisation=employer)
    assert client.get(f"/manage/organisations/{employer.id}").status_code == 404
    assert client.get("/manage/organisations/999999").status_code == 404


def test_a_correction_is_recorded_with_the_change_and_shown_in_the_history(client, make,
                                                                          manager):
    applicant = make.applicant()
    make.application("submitted", applicant=applicant)
    org = applicant.organisation
    old_name = org.legal_name
    assert "have not been corrected" in text(client.get(f"/manage/organisations/{org.id}"))

    response = client.post(f"/manage/organisations/{org.id}", data=fields_of(
        org, legal_name="Renamed Biotech B.V.", region="Flanders",
        reason="Register extract of 3 March."))

    assert response.status_code == 303
    [record] = db.session.scalars(select(ChangeRecord)).all()
    assert (record.subject_type, record.subject_id, record.action, record.actor_id,
            record.reason) == ("organisation", org.id, "correct", manager.id,
                               "Register extract of 3 March.")
    assert record.changes == {"legal_name": [old_name, "Renamed Biotech B.V."],
                              "region": ["North Brabant", "Flanders"]}
    page = text(client.get(f"/manage/organisations/{org.id}"))
    history = page.split('id="history-heading"')[1]
    assert f"Legal name: {old_name} → Renamed Biotech B.V." in history
    assert "Region: North Brabant → Flanders" in history
    assert manager.name in history and "Register extract of 3 March." in history


def test_the_record_is_written_in_the_same_transaction_as_the_change(make):
    org = make.applicant().organisation
    manager = make.manager()
    before = snapshot()

    def refuse_the_record(session, flush_context, instances):
        if any(isinstance(o, ChangeRecord) for o in session.new):
            raise RuntimeError("the record cannot be written")

    event.listen(db.session, "before_flush", refuse_the_record)
    try:
        with pytest.raises(RuntimeError):
            correct_organisation(org, manager, **fields_of(org, legal_name="Renamed B.V."))
        db.session.commit()  # what survives a failed record: nothing
    finally:
        event.remove(db.session, "before_flush", refuse_the_record)
    assert snapshot() == before  # no correction without its record


def test_a_registry_number_taken_at_the_same_moment_is_named(make, monkeypatch):
    org = make.applicant().organisation
    taken = make.organisation().registry_number
    manager = make.manager()
    # As if the other company were registered after this correction's check.
    monkeypatch.setattr(organisations, "registry_number_taken", lambda *a, **k: False)
    refused(lambda: correct_organisation(org, manager, **fields_of(org, registry_number=taken)),
            ConstraintClash, f"Another company is already registered with registry number "
            f"{taken}.")
