"""The manager's read API: the applications table, one application, payments due, budgets.

Each answers what the manager's page of the same name shows, through its service and
behind its permission; a partner manager reaches its own regions only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.api_support import bearer, is_problem
from vouchers.extensions import db
from vouchers.models import Application, Review, User
from vouchers.services import listing, transitions
from vouchers.services import payment_batches as batches
from vouchers.services.call_figures import call_type_figures

API = "/api/v1/manage"


@dataclass
class Programme:
    call: object
    lead_manager: User
    a_manager: User  # the partner of North Brabant
    b_manager: User  # the partner of the Capital Region
    a_apps: list[Application]
    b_app: Application


@pytest.fixture
def programme(make) -> Programme:
    call = make.call()
    lead = make.partner(call.programme, "Lead Agency", "DE", "EUR", is_lead=True,
                        regions=[("DE", "Bavaria", "DE2")])
    a = make.partner(call.programme, "Brabant Agency", "NL", "EUR",
                     regions=[("NL", "North Brabant", "NL41")])
    b = make.partner(call.programme, "Capital Agency", "DK", "EUR",
                     regions=[("DK", "Capital Region", "DK01")])
    lead_manager = make.manager(partner=lead)
    evaluator = make.evaluator()
    a_apps = [
        make.application("submitted", call.voucher_type("travel"), manager=lead_manager),
        make.application("under_review", call.voucher_type("market_validation"),
                         manager=lead_manager, evaluator=evaluator),
        make.application("awarded", call.voucher_type("travel"), manager=lead_manager,
                         evaluator=evaluator),
        make.application("completed", call.voucher_type("travel"), manager=lead_manager),
    ]
    b_app = make.application("under_review", call.voucher_type("travel"),
                             applicant=make.applicant(country="DK", region="Capital Region"),
                             manager=lead_manager)
    assert {x.partner_id for x in a_apps} == {a.id} and b_app.partner_id == b.id
    return Programme(call, lead_manager, make.manager(partner=a), make.manager(partner=b),
                     a_apps, b_app)


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [row["id"] for row in response.json["items"]]


def listed(query: listing.TableQuery, viewer) -> list[int]:
    return [row.id for row in listing.applications_page(query, viewer).items]


def test_the_table_gives_the_pages_rows_for_the_same_query(client, programme):
    call, manager = programme.call, programme.lead_manager
    headers = bearer(manager, "read")
    cases = [
        ({}, {}),
        ({"voucher_type": "travel"}, {"voucher_type": "travel"}),
        ({"state": "under_review"}, {"state": "under_review"}),
        ({"country": "DK"}, {"country": "DK"}),
        ({"needs": "payments_due"}, {"needs": "payments_due"}),
        ({"q": programme.b_app.reference}, {"text": programme.b_app.reference}),
        ({"sort": "score", "direction": "asc"}, {"sort": "score", "direction": "asc"}),
        ({"sort": "date", "direction": "asc", "per_page": 10},
         {"direction": "asc", "per_page": 10}),
    ]
    for params, fields in cases:
        response = client.get(f"{API}/applications", headers=headers,
                              query_string={"call_id": call.id, **params})
        assert ids_of(response) == listed(listing.TableQuery(call_id=call.id, **fields),
                                          manager), params
    assert len(ids_of(client.get(f"{API}/applications", headers=headers,
                                 query_string={"call_id": call.id}))) == 5


def test_the_table_pages_with_links_that_keep_the_filters(client, make, programme):
    call, manager = programme.call, programme.lead_manager
    for _ in range(7):
        make.application("submitted", call.voucher_type("impact"), manager=manager)
    headers = bearer(manager, "read")
    first = client.get(f"{API}/applications", headers=headers, query_string={
        "call_id": call.id, "per_page": 10})
    body = first.json
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (12, 1, 10, 10)
    assert body["links"]["prev"] is None
    second = client.get(body["links"]["next"], headers=headers)
    query = listing.TableQuery(call_id=call.id, per_page=10, page=2)
    assert ids_of(second) == listed(query, manager) and len(ids_of(second)) == 2
    assert second.json["links"]["next"] is None
    assert "per_page=10" in second.json["links"]["self"]
    assert "direction=desc" in second.json["links"]["prev"]
    # A page past the end is the last page, as on the page.
    past = client.get(f"{API}/applications", headers=headers, query_string={
        "call_id": call.id, "per_page": 10, "page": 9})
    assert past.json["page"] == 2


def test_the_filter_forms_messages_name_the_apis_parameters(client, programme):
    headers = bearer(programme.lead_manager, "read")
    call_id = programme.call.id

    def errors(**params):
        response = client.get(f"{API}/applications", headers=headers, query_string=params)
        assert is_problem(response, 422), params
        return response.json["errors"]

    assert "call_id" in errors()
    assert errors(call_id=999999)["call_id"] == ["There is no such call."]
    assert errors(call_id=call_id, voucher_type="yacht")["voucher_type"] == [
        "Choose one of the voucher types."]
    assert errors(call_id=call_id, direction="up")["direction"] == [
        "Order descending or ascending."]
    assert errors(call_id=call_id, country="FR")["country"] == [
        "No applicant comes from that country."]
    assert "per_page" in errors(call_id=call_id, per_page=7)
    assert errors(call_id=call_id, state="draft")["state"] == [
        "Choose one of the states of a submitted application."]
    # The app's check of every query string answers the API with a problem document too.
    assert errors(call_id=call_id, page=0)["page"] == [
        "must be a page number from 1 to 1,000,000"]
    assert "contains a control character" in errors(call_id=call_id, q="a\x01")["q"][0]


def test_a_partner_manager_lists_and_reads_its_own_regions_only(client, programme):
    call, a_manager = programme.call, programme.a_manager
    headers = bearer(a_manager, "read")
    response = client.get(f"{API}/applications", headers=headers,
                          query_string={"call_id": call.id})
    assert sorted(ids_of(response)) == sorted(a.id for a in programme.a_apps)
    assert ids_of(response) == listed(listing.TableQuery(call_id=call.id), a_manager)
    # The country filter offers the countries it reaches, as the page's does.
    response = client.get(f"{API}/applications", headers=headers,
                          query_string={"call_id": call.id, "country": "DK"})
    assert is_problem(response, 422)
    assert client.get(f"{API}/applications/{programme.a_apps[0].id}",
                      headers=headers).status_code == 200
    for url in (f"{API}/applications/{programme.b_app.id}", f"{API}/calls/{call.id}/budget",
                f"{API}/payments?call_id={call.id}"):
        assert is_problem(client.get(url, headers=headers), 404), url
    other = bearer(programme.b_manager, "read")
    assert ids_of(client.get(f"{API}/applications", headers=other,
                             query_string={"call_id": call.id})) == [programme.b_app.id]


def test_one_application_with_its_reviews_audit_trail_and_money(client, programme):
    reviewed, awarded = programme.a_apps[1], programme.a_apps[2]
    headers = bearer(programme.lead_manager, "read")
    body = client.get(f"{API}/applications/{reviewed.id}", headers=headers).json
    assert (body["reference"], body["state"], body["company"]["legal_name"]) == (
        reviewed.reference, "under_review", reviewed.organisation.legal_name)
    [review] = body["reviews"]
    criteria = reviewed.call_voucher_type.criteria
    assert (review["recommendation"], review["comment"], review["counts"]) == (
        "award", "Good.", True)
    assert review["weighted_score"] == "4.00"
    assert [(s["criterion"], s["score"]) for s in review["scores"]] == [
        (c.name, 4) for c in criteria]
    trail = [(r["from_state"], r["to_state"], r["trigger"]) for r in body["audit_trail"]]
    assert trail[:2] == [(None, "draft", "create"), ("draft", "submitted", "submit")]
    assert trail == [(r.from_state, r.to_state, r.trigger) for r in reviewed.audit_records]
    assert body["money"]["figures"] == [] and body["money"]["due"] is None

    money = client.get(f"{API}/applications/{awarded.id}", headers=headers).json
    figures = {f["key"]: f["amount"] for f in money["money"]["figures"]}
    assert figures["awarded"] == f"{awarded.awarded_amount:.2f}"
    assert figures["committed"] == f"{awarded.awarded_amount:.2f}" and figures["paid"] == "0.00"
    award = next(r for r in money["audit_trail"] if r["trigger"] == "award")
    assert award["amount"] == f"{awarded.awarded_amount:.2f}"
    assert award["actor"] == programme.lead_manager.name
    assert money["awarded_amount"] == f"{awarded.awarded_amount:.2f}"


def test_the_review_names_its_evaluator_for_the_manager(client, programme):
    reviewed = programme.a_apps[1]
    body = client.get(f"{API}/applications/{reviewed.id}",
                      headers=bearer(programme.lead_manager, "read")).json
    [review] = body["reviews"]
    stored = db.session.get(Review, review["id"])
    assert stored.application_id == reviewed.id
    assert (review["evaluator_id"], review["evaluator"]) == (stored.evaluator_id,
                                                             stored.evaluator.name)


def test_an_application_has_an_etag_and_answers_304_until_it_changes(client, programme):
    application = programme.a_apps[0]
    headers = bearer(programme.lead_manager)
    url = f"{API}/applications/{application.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    transitions.start_review(application, programme.lead_manager)
    db.session.commit()
    changed = client.get(url, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.json["state"] == "under_review"


def test_the_payments_due_are_the_payments_pages(client, make, programme):
    call, manager = programme.call, programme.lead_manager
    completed = programme.a_apps[3]
    org = completed.organisation
    org.iban, org.bic, org.account_holder = "NL91ABNA0417164300", "", org.legal_name
    db.session.commit()
    response = client.get(f"{API}/payments", headers=bearer(manager, "read"),
                          query_string={"call_id": call.id})
    assert response.status_code == 200, response.json
    dues = batches.due_payments(call)
    assert [(d["application_id"], d["kind"], d["amount"], d["selectable"])
            for d in response.json["items"]] == [
        (d.application.id, d.kind, f"{d.amount:.2f}", d.selectable) for d in dues]
    assert response.json["total"] == len(dues) >= 1
    row = next(d for d in response.json["items"] if d["application_id"] == completed.id)
    assert (row["iban"], row["problem"]) == ("NL91ABNA0417164300", None)
    assert is_problem(client.get(f"{API}/payments", headers=bearer(manager, "read"),
                                 query_string={"call_id": 999999}), 404)


def test_the_budget_per_voucher_type_is_the_call_figures(client, programme):
    call = programme.call
    response = client.get(f"{API}/calls/{call.id}/budget",
                          headers=bearer(programme.lead_manager, "read"))
    assert response.status_code == 200, response.json
    assert response.json["call"]["code"] == call.code
    types = {t["voucher_type"]: t for t in response.json["voucher_types"]}
    for figures in call_type_figures(db.session, call.id):
        shown = types[figures.voucher_type]
        for key in ("envelope", "committed", "paid", "outstanding", "remaining_envelope"):
            assert shown[key] == f"{getattr(figures, key):.2f}", key
            assert Decimal(shown[key]) == getattr(figures, key)
        for key in ("quota", "awarded", "remaining_quota", "received", "applications"):
            assert shown[key] == getattr(figures, key), key
    travel = types["travel"]
    assert travel["awarded"] == 2 and travel["received"] == 4 and travel["committed"] != "0.00"
    assert is_problem(client.get(f"{API}/calls/999999/budget",
                                 headers=bearer(programme.lead_manager)), 404)


def test_only_managers_read_and_anonymous_callers_are_asked_to_sign_in(
        client, make, programme):
    application = programme.a_apps[0]
    call_id = programme.call.id
    urls = (f"{API}/applications?call_id={call_id}", f"{API}/applications/{application.id}",
            f"{API}/payments?call_id={call_id}", f"{API}/calls/{call_id}/budget")
    for user in (application.applicant, make.evaluator()):
        for url in urls:
            assert is_problem(client.get(url, headers=bearer(user, "read")), 404), url
    for url in urls:
        assert is_problem(client.get(url), 401), url
