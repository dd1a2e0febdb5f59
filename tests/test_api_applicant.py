"""The applicant's API (/api/v1/me): the pages' forms, services and permissions, as JSON."""

from __future__ import annotations

import html
import io
import re

import pytest

from tests.api_support import bearer, is_problem
from tests.helpers import PDF, login, snapshot
from vouchers.applicant.forms import MAX_COST_LINES
from vouchers.extensions import db
from vouchers.models import Application, Attachment
from vouchers.services import transitions
from vouchers.services.errors import DomainError

ME = "/api/v1/me"
TRAVEL = {"event": "BIO-Europe", "destination": "Copenhagen", "start_date": "2027-03-01",
          "end_date": "2027-03-03"}


def new_travel(cvt, **overrides) -> dict:
    body = {"call_voucher_type_id": cvt.id, "title": "Meet investors",
            "summary": "Two days of partnering meetings.", "requested_amount": "1200.00",
            "details": TRAVEL, "cost_lines": [{"description": "Flights", "amount": "700"},
                                              {"description": "Hotel", "amount": "500.00"}]}
    return {**body, **overrides}


def used_token(client, user, scope: str = "write") -> dict[str, str]:
    """A token's headers once used: its first use stamps it, a row the snapshots compare."""
    headers = bearer(user, scope)
    assert client.get(f"{ME}/applications", headers=headers).status_code == 200
    return headers


def page_text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


@pytest.fixture
def owner(make):
    return make.applicant()


@pytest.fixture
def other(make):
    return make.applicant()


def test_my_company_and_a_404_until_it_is_described(client, make, owner):
    response = client.get(f"{ME}/company", headers=bearer(owner, "read"))
    assert response.status_code == 200
    assert response.json["legal_name"] == owner.organisation.legal_name
    assert response.json["vat_number"] is None
    newcomer = make.user("applicant")
    response = client.get(f"{ME}/company", headers=bearer(newcomer, "read"))
    assert is_problem(response, 404)
    assert response.json["detail"] == "Describe your company before you apply."


def test_only_applicants_reach_their_routes(client, make):
    assert is_problem(client.get(f"{ME}/applications"), 401)
    for user in (make.manager(), make.evaluator()):
        assert is_problem(client.get(f"{ME}/applications", headers=bearer(user)), 404)
        assert is_problem(client.get(f"{ME}/company", headers=bearer(user)), 404)


def test_a_draft_is_created_with_its_cost_lines_and_read_back(client, make, owner):
    cvt = make.call().voucher_type("travel")
    headers = bearer(owner)
    response = client.post(f"{ME}/applications", json=new_travel(cvt), headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"] == f"{ME}/applications/{body['id']}"
    assert body["state"] == "draft" and body["editable"] is True
    assert body["requested_amount"] == "1200.00" and body["total_costs"] == "1200.00"
    assert body["cost_lines"] == [{"description": "Flights", "amount": "700.00"},
                                  {"description": "Hotel", "amount": "500.00"}]
    assert body["details"] == TRAVEL and body["problems"] == []
    assert "submit" in body["actions"]
    again = client.get(response.headers["Location"], headers=headers)
    assert again.status_code == 200 and again.json == body
    application = db.session.get(Application, body["id"])
    assert application.organisation_id == owner.organisation_id
    assert application.audit_records[0].trigger == "create"


def test_a_validation_draft_names_a_provider_of_the_catalogue(client, make, owner):
    cvt = make.call().voucher_type("market_validation")
    provider = make.provider()
    body = {"call_voucher_type_id": cvt.id, "title": "Market study",
            "provider_id": provider.id, "details": {"service": "Interviews"}}
    response = client.post(f"{ME}/applications", json=body, headers=bearer(owner))
    assert response.status_code == 201, response.json
    assert response.json["provider_id"] == provider.id
    assert response.json["cost_lines"] == []
    assert "add at least one cost line" in response.json["problems"]


def test_the_forms_rules_refuse_a_bad_draft_with_their_own_words(client, make, owner):
    cvt = make.call().voucher_type("travel")
    headers, before = used_token(client, owner), snapshot()
    bad_line = new_travel(cvt, cost_lines=[{"description": "", "amount": "300"}])
    response = client.post(f"{ME}/applications", json=bad_line, headers=headers)
    assert is_problem(response, 422)
    assert response.json["errors"] == {"cost_lines.0.description": ["Say what this cost is "
                                                                    "for."]}
    two = new_travel(cvt, cost_lines=[{"description": "Fine", "amount": "10"},
                                      {"description": "Free", "amount": "0"}])
    response = client.post(f"{ME}/applications", json=two, headers=headers)
    assert response.json["errors"] == {"cost_lines.1.amount": ["Give an amount greater than "
                                                               "zero."]}
    too_many = new_travel(cvt, cost_lines=[{"description": f"Cost {i}", "amount": "10"}
                                           for i in range(MAX_COST_LINES + 1)])
    response = client.post(f"{ME}/applications", json=too_many, headers=headers)
    assert is_problem(response, 422)
    assert (f"At most {MAX_COST_LINES} cost lines; group smaller costs."
            in response.json["errors"]["cost_lines"])
    unknown = new_travel(cvt, details={**TRAVEL, "shoe_size": "44"})
    response = client.post(f"{ME}/applications", json=unknown, headers=headers)
    assert is_problem(response, 422) and "shoe_size" in response.json["errors"]["details"][0]
    missing = client.post(f"{ME}/applications", json=new_travel(cvt, call_voucher_type_id=999),
                          headers=headers)
    assert is_problem(missing, 422) and "call_voucher_type_id" in missing.json["errors"]
    assert snapshot() == before


def test_a_closed_call_is_refused_with_the_services_message(client, make, owner):
    cvt = make.call(open_now=False).voucher_type("travel")
    headers = used_token(client, owner)
    before = snapshot()
    response = client.post(f"{ME}/applications", json=new_travel(cvt), headers=headers)
    assert is_problem(response, 422)
    assert response.json["detail"] == "The call is not open for applications."
    assert snapshot() == before


def test_an_update_changes_what_it_names_and_keeps_the_rest(client, make, owner):
    draft = make.draft(make.call().voucher_type("travel"), owner)
    headers, url = used_token(client, owner), f"{ME}/applications/{draft.id}"
    response = client.patch(url, json={"title": "A new title"}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["title"] == "A new title"
    assert response.json["summary"] == "What we will do."
    assert len(response.json["cost_lines"]) == 1
    response = client.patch(url, json={"cost_lines": [{"description": "Train",
                                                       "amount": "250.50"}],
                                       "details": {"destination": "Basel"}}, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["cost_lines"] == [{"description": "Train", "amount": "250.50"}]
    assert response.json["details"]["destination"] == "Basel"
    assert response.json["details"]["event"] == "BIO-Europe"
    before = snapshot()
    response = client.patch(url, json={"requested_amount": "twelve"}, headers=headers)
    assert is_problem(response, 422) and "requested_amount" in response.json["errors"]
    assert snapshot() == before


def test_a_submitted_application_can_no_longer_be_changed(client, make, owner):
    submitted = make.application("submitted", applicant=owner)
    headers = used_token(client, owner)
    before = snapshot()
    response = client.patch(f"{ME}/applications/{submitted.id}", json={"title": "Late"},
                            headers=headers)
    assert is_problem(response, 422)
    assert response.json["detail"] == "The application is submitted and can no longer be changed."
    assert snapshot() == before


def test_submit_and_withdraw(client, make, owner):
    draft = make.draft(make.call().voucher_type("travel"), owner)
    headers, url = used_token(client, owner), f"{ME}/applications/{draft.id}"
    response = client.post(f"{url}/submit", json={"publication_consent": True},
                           headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["state"] == "submitted" and response.json["submitted_at"]
    db.session.refresh(draft)
    assert draft.publication_consent is True
    response = client.post(f"{url}/withdraw", json={"reason": "Plans changed."},
                           headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["state"] == "withdrawn" and response.json["actions"] == []
    assert draft.audit_records[-1].comment == "Plans changed."
    # Nothing to send is fine: both bodies are optional.
    before = snapshot()
    response = client.post(f"{url}/withdraw", headers=headers)
    assert is_problem(response, 422)
    assert "withdrawn" in response.json["detail"]
    assert snapshot() == before


def test_an_incomplete_draft_is_refused_with_the_pages_words(client, make, owner):
    cvt = make.call().voucher_type("travel")
    headers = used_token(client, owner)
    created = client.post(f"{ME}/applications", json={"call_voucher_type_id": cvt.id,
                                                      "title": "Half done"}, headers=headers)
    draft = db.session.get(Application, created.json["id"])
    try:
        transitions.submit(draft, owner)
    except DomainError as exc:
        expected = exc.message
    db.session.rollback()
    before = snapshot()
    response = client.post(f"{ME}/applications/{draft.id}/submit", json={}, headers=headers)
    assert is_problem(response, 422)
    assert response.json["detail"] == expected and "describe the project" in expected
    assert snapshot() == before
    login(client, owner)
    page = client.post(f"/apply/applications/{draft.id}/submit", data={})
    assert page.status_code == 422 and expected in page_text(page)


def upload(client, application, headers, content=PDF, name="quote.pdf", **parts):
    data = {"file": (io.BytesIO(content), name), "kind": "quote", **parts}
    return client.post(f"{ME}/applications/{application.id}/attachments", data=data,
                       headers=headers, content_type="multipart/form-data")


def test_an_upload_answers_its_metadata(client, make, owner):
    draft = make.draft(make.call().voucher_type("travel"), owner)
    headers = bearer(owner)
    response = upload(client, draft, headers)
    assert response.status_code == 201, response.json
    assert response.json["name"] == "quote.pdf" and response.json["kind"] == "quote"
    assert response.json["content_type"] == "application/pdf"
    assert response.json["size"] == len(PDF) and response.json["purpose"] == "application"
    listed = client.get(f"{ME}/applications/{draft.id}", headers=headers).json["attachments"]
    assert [a["id"] for a in listed] == [response.json["id"]]


def test_an_upload_is_checked_as_on_the_page(app, client, make, owner, monkeypatch):
    draft = make.draft(make.call().voucher_type("travel"), owner)
    headers, before = used_token(client, owner), snapshot()
    response = upload(client, draft, headers, content=b"MZ\x90\x00", name="tool.exe")
    assert is_problem(response, 422)
    assert response.json["detail"].endswith(".exe files are not accepted.")
    response = upload(client, draft, headers, content=b"<html></html>", name="quote.pdf")
    assert is_problem(response, 422)
    assert response.json["detail"] == "quote.pdf is not a genuine .pdf file."
    response = client.post(f"{ME}/applications/{draft.id}/attachments",
                           data={"kind": "quote"}, headers=headers,
                           content_type="multipart/form-data")
    assert is_problem(response, 422)
    assert response.json["errors"]["file"] == ["Choose a file to upload."]
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 1024)
    response = upload(client, draft, headers, content=PDF + b"0" * 2048)
    assert is_problem(response, 422)
    assert response.json["detail"] == "The file is larger than the limit of 0 MB."
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    response = upload(client, draft, headers, content=PDF + b"0" * 4096, name="huge.pdf")
    assert is_problem(response, 413)
    assert response.json["detail"].startswith("The file is larger than the limit of")
    assert snapshot() == before
    assert db.session.scalar(db.select(db.func.count()).select_from(Attachment)) == 0


def test_a_read_only_token_changes_nothing(client, make, owner):
    cvt = make.call().voucher_type("travel")
    draft = make.draft(cvt, owner)
    headers, url = used_token(client, owner, "read"), f"{ME}/applications/{draft.id}"
    before = snapshot()
    refused = [
        client.post(f"{ME}/applications", json=new_travel(cvt), headers=headers),
        client.patch(url, json={"title": "No"}, headers=headers),
        client.post(f"{url}/submit", json={}, headers=headers),
        client.post(f"{url}/withdraw", json={}, headers=headers),
        upload(client, draft, headers),
    ]
    for response in refused:
        assert is_problem(response, 403), response.request.path
        assert "only read" in response.json["detail"]
    assert snapshot() == before
    assert client.get(url, headers=headers).status_code == 200


def test_another_company_never_reads_or_changes_my_application(client, make, owner, other):
    mine = make.draft(make.call().voucher_type("travel"), owner)
    make.application("paid", applicant=owner)
    headers, url = used_token(client, other), f"{ME}/applications/{mine.id}"
    before = snapshot()
    for response in (
        client.get(url, headers=headers),
        client.patch(url, json={"title": "Mine now"}, headers=headers),
        client.post(f"{url}/submit", json={}, headers=headers),
        client.post(f"{url}/withdraw", json={}, headers=headers),
        upload(client, mine, headers),
    ):
        assert is_problem(response, 404), response.request.path
    assert snapshot() == before
    listed = client.get(f"{ME}/applications", headers=headers).json
    assert listed["items"] == [] and listed["total"] == 0
    assert client.get(f"{ME}/payments", headers=headers).json["items"] == []


def test_my_applications_are_paged_with_links(client, make, owner):
    cvt = make.call().voucher_type("travel")
    drafts = [make.draft(cvt, owner) for _ in range(3)]
    make.draft(cvt)  # another company's
    headers = bearer(owner, "read")
    first = client.get(f"{ME}/applications?per_page=2", headers=headers).json
    assert first["total"] == 3 and first["page"] == 1 and first["per_page"] == 2
    assert [a["id"] for a in first["items"]] == [drafts[2].id, drafts[1].id]
    assert first["links"] == {"self": f"{ME}/applications?page=1&per_page=2",
                              "next": f"{ME}/applications?page=2&per_page=2", "prev": None}
    second = client.get(first["links"]["next"], headers=headers).json
    assert [a["id"] for a in second["items"]] == [drafts[0].id]
    assert second["links"]["next"] is None
    assert second["links"]["prev"] == first["links"]["self"]
    assert second["items"][0]["requested_amount"] == f"{drafts[0].requested_amount:.2f}"
    refused = client.get(f"{ME}/applications?per_page=1000", headers=headers)
    assert is_problem(refused, 422) and "per_page" in refused.json["errors"]


def test_an_application_has_an_etag_and_answers_304_until_it_changes(client, make, owner):
    draft = make.draft(make.call().voucher_type("travel"), owner)
    headers, url = used_token(client, owner), f"{ME}/applications/{draft.id}"
    first = client.get(url, headers=headers)
    etag = first.headers["ETag"]
    assert etag
    unchanged = client.get(url, headers={**headers, "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert client.patch(url, json={"title": "Changed"}, headers=headers).status_code == 200
    changed = client.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_my_payments(client, make, owner):
    paid = make.application("paid", applicant=owner)
    make.application("paid")  # another company's
    response = client.get(f"{ME}/payments", headers=bearer(owner, "read"))
    assert response.status_code == 200
    [payment] = response.json["items"]
    assert payment["amount"] == f"{paid.paid_amount:.2f}"
    assert payment["reference"] == f"PAY-{paid.id}" and payment["reversed"] is False
    assert payment["voucher"] == {"id": paid.id, "reference": paid.reference,
                                  "title": paid.title}
    assert payment["kind"] == "payment" and payment["currency"] == "EUR"
    assert response.json["total"] == 1 and response.json["links"]["next"] is None


def test_the_document_describes_the_routes(client):
    document = client.get("/api/openapi.json").json
    paths = document["paths"]
    for path in ("/api/v1/me/company", "/api/v1/me/applications",
                 "/api/v1/me/applications/{application_id}", "/api/v1/me/payments",
                 "/api/v1/me/applications/{application_id}/submit",
                 "/api/v1/me/applications/{application_id}/withdraw",
                 "/api/v1/me/applications/{application_id}/attachments"):
        assert path in paths, path
    created = paths["/api/v1/me/applications"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]
    upload_ = paths["/api/v1/me/applications/{application_id}/attachments"]["post"]
    assert "multipart/form-data" in upload_["requestBody"]["content"]
    assert "413" in upload_["responses"] and "201" in upload_["responses"]
    single = paths["/api/v1/me/applications/{application_id}"]["get"]["responses"]
    assert "304" in single


def test_the_session_cookie_reads_but_changes_nothing_without_the_csrf_token(client, make,
                                                                            owner):
    draft = make.draft(make.call().voucher_type("travel"), owner)
    login(client, owner)
    url = f"{ME}/applications/{draft.id}"
    assert client.get(url).json["id"] == draft.id
    before = snapshot()
    response = client.patch(url, json={"title": "Forged"})
    assert is_problem(response, 403) and "X-CSRFToken" in response.json["detail"]
    assert snapshot() == before
    page = client.get(f"/apply/applications/{draft.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.patch(url, json={"title": "Mine"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json["title"] == "Mine"
