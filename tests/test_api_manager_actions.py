"""The manager's actions through the API: the application page's every action, the
assignment of an evaluator, the workbook as a job; refusals in the pages' words, and a
refused request changes nothing."""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.api_support import bearer, is_problem
from tests.helpers import snapshot
from tests.test_jobs import _members
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.jobs import runner as job_runner
from vouchers.jobs import service
from vouchers.jobs.kinds import Made, kind
from vouchers.manager.applications import ACTIONS
from vouchers.models import Job, LedgerEntry
from vouchers.services import reviews, settlement
from vouchers.services.workbook import WorkbookFilters, budget_export, generated_by

API = "/api/v1/manage"


def act(client, application, action, headers, body=None):
    return client.post(f"{API}/applications/{application.id}/actions/{action}",
                       json=body if body is not None else {}, headers=headers)


def used(client, headers) -> dict:
    """``headers`` after one request, so the token's first-use stamp is not a change."""
    client.get("/api/v1/calls", headers=headers)
    return headers


@pytest.fixture
def manager(make):
    return make.manager()


@pytest.fixture
def as_manager(client, manager):
    return used(client, bearer(manager))


def refused(client, application, action, headers, body, status, message):
    """The service's (or the form's) refusal, in its words, and no row changed."""
    before = snapshot()
    response = act(client, application, action, headers, body)
    assert is_problem(response, status), response.get_json()
    assert message is None or message in response.json["detail"] or any(
        message in m for ms in response.json.get("errors", {}).values() for m in ms
    ), response.json
    assert snapshot() == before
    return response


# --- every action of the page, through a token -------------------------------------------

ACTION_CASES = [
    ("under_review", "award", {"amount": "1000", "comment": "Strong case."}, "awarded"),
    ("under_review", "reject", {"comment": "Out of scope."}, "rejected"),
    ("under_review", "waitlist", {}, "waitlisted"),
    ("submitted", "return_for_changes", {"comment": "Add a quote."}, "returned"),
    ("submitted", "start_review", {}, "under_review"),
    ("awarded", "cancel", {"comment": "The company closed."}, "cancelled"),
    ("awarded", "start_reporting", {}, "reporting"),
    ("report_submitted", "approve_report", {"comment": "Fine."}, "completed"),
    ("report_submitted", "return_report", {"comment": "Add the invoices."}, "reporting"),
    # A part payment: no state change, one movement of money.
    ("completed", "record_payment",
     {"amount": "100", "paid_on": "today", "reference": "BANK-7"}, "completed"),
]


def test_every_action_of_the_page_is_tried_below_and_is_a_route():
    assert sorted(name for _, name, _, _ in ACTION_CASES) == sorted(ACTIONS)


@pytest.mark.parametrize("state, action, body, expected", ACTION_CASES)
def test_each_action_moves_the_application(client, make, manager, as_manager, state, action,
                                           body, expected):
    application = make.application(state, manager=manager)
    body = {k: today().isoformat() if v == "today" else v for k, v in body.items()}

    response = act(client, application, action, as_manager, body)

    assert response.status_code == 200, response.get_json()
    data = response.json
    assert data["action"] == action and data["message"] == ACTIONS[action].done
    db.session.expire_all()
    assert application.state == expected == data["application"]["state"]
    money = data["application"]
    assert money["committed_amount"] == f"{application.committed_amount:.2f}"
    assert money["paid_amount"] == f"{application.paid_amount:.2f}"
    assert money["awarded_amount"] == (None if application.awarded_amount is None
                                       else f"{application.awarded_amount:.2f}")
    # The records written: the state change and each movement of money, by this manager.
    triggers = [r["trigger"] for r in data["audit"]]
    moved = action in ("cancel", "record_payment")
    assert len(triggers) == (expected != state) + moved, triggers
    assert all(r["actor_id"] == manager.id for r in data["audit"])
    if expected != state:
        [change] = [r for r in data["audit"] if r["to_state"] == expected
                    and r["from_state"] == state]
        assert change["trigger"] == action


def test_award_answers_the_amount_as_money_and_the_comment(client, make, manager, as_manager):
    application = make.application("under_review", manager=manager)
    response = act(client, application, "award", as_manager,
                   {"amount": "20000.50", "comment": "Strong case."})
    assert response.status_code == 200
    assert response.json["application"]["awarded_amount"] == "20000.50"
    [record] = response.json["audit"]
    assert record["amount"] == "20000.50" and record["comment"] == "Strong case."
    db.session.expire_all()
    assert application.call_voucher_type.committed == Decimal("20000.50")


def test_record_payment_gets_its_kind_from_the_state_and_closes_the_voucher(
        client, make, manager, as_manager):
    application = make.application("completed", manager=manager)
    payable = settlement.payable(application)
    response = act(client, application, "record_payment", as_manager,
                   {"amount": str(payable), "paid_on": today().isoformat(),
                    "reference": "BANK-1", "invoice_number": "INV-9"})
    assert response.status_code == 200, response.json
    assert response.json["application"]["state"] == "paid"
    assert [r["trigger"] for r in response.json["audit"]][-1] == "pay"
    assert response.json["application"]["outstanding_amount"] == "0.00"


def test_an_advance_is_the_kind_an_awarded_voucher_is_paid(client, make, manager, as_manager):
    call = make.call()
    call.advance_share = Decimal("0.40")
    db.session.commit()
    application = make.application("awarded", call.voucher_type("travel"), manager=manager)
    response = act(client, application, "record_payment", as_manager,
                   {"amount": "100.00", "paid_on": today().isoformat(), "reference": "ADV-1"})
    assert response.status_code == 200, response.json
    assert response.json["application"]["state"] == "awarded"
    assert response.json["application"]["paid_amount"] == "100.00"
    kinds = db.session.scalars(select(LedgerEntry.kind).where(
        LedgerEntry.application_id == application.id)).all()
    assert "advance" in kinds


# --- refusals: the pages' words, nothing changed -------------------------------------------


def test_award_beyond_the_envelope_is_refused_with_the_budget_message(client, make, manager,
                                                                      as_manager):
    call = make.call({"market_validation": (6, "60000", "0.75", "50000")})
    mv = call.voucher_type("market_validation")
    make.application("awarded", mv, manager=manager, requested="40000")
    application = make.application("under_review", mv, manager=manager, requested="30000")
    response = refused(client, application, "award", as_manager, {"amount": "30000"}, 422,
                       "would exceed the market validation envelope")
    assert response.json["detail"] == ("Awarding €30,000.00 would exceed the market "
                                       "validation envelope: €10,000.00 of €50,000.00 remains.")


def test_award_beyond_the_quota_is_refused(client, make, manager, as_manager):
    travel = make.call({"travel": (1, "5000", "1.00", "60000")}).voucher_type("travel")
    make.application("awarded", travel, manager=manager)
    application = make.application("under_review", travel, manager=manager)
    refused(client, application, "award", as_manager, {"amount": "1000"}, 422,
            "The quota of 1 travel vouchers is used up")


def test_an_action_the_state_does_not_allow_gets_the_lifecycle_message(client, make,
                                                                       as_manager):
    application = make.application("submitted")
    refused(client, application, "award", as_manager, {"amount": "1000"}, 422,
            "Not possible now: the application is submitted")


@pytest.mark.parametrize("state", ["paid", "rejected", "cancelled"])
def test_every_action_on_a_closed_application_is_refused(client, make, manager, as_manager,
                                                         state):
    application = make.application(state, manager=manager)
    body = {"comment": "x", "amount": "1", "paid_on": today().isoformat(), "reference": "R"}
    for name in ACTIONS:
        before = snapshot()
        response = act(client, application, name, as_manager, _only_fields(name, body))
        assert is_problem(response, 422), (name, response.json)
        assert snapshot() == before


def _only_fields(action: str, body: dict) -> dict:
    """``body`` less the fields the action's form does not have (those are refused)."""
    form = ACTIONS[action].form
    return {k: v for k, v in body.items() if hasattr(form, k)}


def test_a_reason_is_needed_and_a_bad_amount_is_named_with_the_fields_message(
        client, make, manager, as_manager):
    application = make.application("under_review", manager=manager)
    refused(client, application, "reject", as_manager, {"comment": " "}, 422,
            "Give the reason for the rejection.")
    response = refused(client, application, "award", as_manager, {"amount": "12,5"}, 422,
                       "with a dot for cents")
    assert list(response.json["errors"]) == ["amount"]
    response = refused(client, application, "award", as_manager, {}, 422,
                       "Give the amount to award.")
    # A field the form does not have, or a number where the document says a string.
    refused(client, application, "award", as_manager, {"amount": "10", "colour": "red"}, 422,
            "Unknown field.")
    refused(client, application, "award", as_manager, {"amount": 10}, 422, "Not a valid string.")


def test_a_payment_above_the_payable_amount_or_of_a_paid_voucher_is_refused(
        client, make, manager, as_manager):
    application = make.application("completed", manager=manager)
    payable = settlement.payable(application)
    refused(client, application, "record_payment", as_manager,
            {"amount": str(payable + 1), "paid_on": today().isoformat(), "reference": "B-1"},
            422, "still payable")
    paid = make.application("paid", manager=manager)
    refused(client, paid, "record_payment", as_manager,
            {"amount": "1", "paid_on": today().isoformat(), "reference": "B-9"},
            422, "This voucher is already paid in full.")


def test_a_read_only_token_cannot_act(client, make, manager):
    application = make.application("under_review", manager=manager)
    headers = used(client, bearer(manager, "read"))
    response = refused(client, application, "award", headers, {"amount": "1000"}, 403,
                       "This token may only read.")
    assert response.json["status"] == 403


def test_other_roles_and_unknown_actions_or_applications_are_404(client, make, manager,
                                                                 as_manager):
    application = make.application("under_review", manager=manager)
    for user in (application.applicant, make.evaluator()):
        refused(client, application, "award", used(client, bearer(user)), {"amount": "1"},
                404, None)
    assert is_problem(client.post(f"{API}/applications/{application.id}/actions/submit",
                                  json={}, headers=as_manager), 404)
    assert is_problem(client.post(f"{API}/applications/999999/actions/award",
                                  json={"amount": "1"}, headers=as_manager), 404)
    assert is_problem(client.post(f"{API}/applications/{application.id}/actions/award",
                                  json={"amount": "1"}), 401)


def test_a_partner_manager_cannot_act_on_another_regions_application(client, make):
    call = make.call()
    programme = call.programme
    make.partner(programme, "Lead Agency", "DE", is_lead=True,
                 regions=[("DE", "Bavaria", "DE2")])
    brabant = make.partner(programme, "Brabant Agency", regions=[("NL", "North Brabant",
                                                                  "NL41")])
    capital = make.partner(programme, "Capital Agency", "DK",
                           regions=[("DK", "Capital Region", "DK01")])
    danish = make.applicant(country="DK", region="Capital Region")
    theirs = make.application("under_review", call.voucher_type("travel"), applicant=danish)
    assert theirs.partner_id == capital.id
    outsider = make.manager(partner=brabant)
    headers = used(client, bearer(outsider))
    refused(client, theirs, "award", headers, {"amount": "1000"}, 404, None)
    assert is_problem(client.post(f"{API}/applications/{theirs.id}/assignments",
                                  json={"evaluator": make.evaluator().id}, headers=headers),
                      404)
    # Capital's own manager may.
    response = act(client, theirs, "award", bearer(make.manager(partner=capital)),
                   {"amount": "1000"})
    assert response.status_code == 200, response.json


# --- assignment ----------------------------------------------------------------------------


def test_assign_an_evaluator_starts_the_review(client, make, manager, as_manager):
    application = make.application("submitted")
    evaluator = make.evaluator()
    before = snapshot()
    response = client.post(f"{API}/applications/{application.id}/assignments",
                           json={}, headers=as_manager)
    assert is_problem(response, 422) and "evaluator" in response.json["errors"]
    assert snapshot() == before

    response = client.post(f"{API}/applications/{application.id}/assignments",
                           json={"evaluator": evaluator.id}, headers=as_manager)

    assert response.status_code == 201, response.json
    assert response.json["evaluator"] == {"id": evaluator.id, "name": evaluator.name}
    assert response.json["message"] == f"{evaluator.name} assigned."
    assert response.json["application"]["state"] == "under_review"
    assert [r["trigger"] for r in response.json["audit"]] == ["start_review"]
    db.session.expire_all()
    assert reviews.active_assignment(application, evaluator) is not None


def test_a_refused_assignment_changes_nothing(client, make, manager, as_manager):
    application = make.application("awarded", manager=manager)
    evaluator = make.evaluator()
    before = snapshot()
    response = client.post(f"{API}/applications/{application.id}/assignments",
                           json={"evaluator": evaluator.id}, headers=as_manager)
    assert is_problem(response, 422)
    assert "Only submitted applications and those under review" in response.json["detail"]
    assert snapshot() == before


# --- the workbook as a job -----------------------------------------------------------------


@pytest.fixture
def call_with_vouchers(make, manager):
    call = make.call()
    for state in ("submitted", "awarded", "rejected"):
        make.application(state, call.voucher_type("travel"), manager=manager)
    return call


def _jobs() -> int:
    return db.session.scalar(select(func.count()).select_from(Job))


def test_the_workbook_job_from_queued_to_its_file(app, client, make, manager, as_manager,
                                                 call_with_vouchers):
    call = call_with_vouchers
    response = client.post(f"{API}/calls/{call.id}/workbook", json={"type": ["travel"]},
                           headers=as_manager)
    assert response.status_code == 202, response.json
    job = response.json
    assert job["state"] == "queued" and job["file"] is None and job["progress"] == 0
    assert job["title"] == f"Budget workbook of {call.code} (filtered)"
    location = response.headers["Location"]
    assert location == job["links"]["self"] == f"{API}/jobs/{job['id']}"

    job_runner.drain(app)
    response = client.get(location, headers=as_manager)
    assert response.status_code == 200
    done = response.json
    assert done["state"] == "done" and done["progress"] == 100 and done["expires_at"]
    assert done["file"]["url"] == f"{location}/file"
    # The ETag: polling a job that did not change answers 304.
    again = client.get(location, headers={**as_manager,
                                          "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304

    with client.get(done["file"]["url"], headers=as_manager) as download:
        assert download.status_code == 200
        assert download.mimetype == done["file"]["mimetype"]
        assert "no-store" in download.headers["Cache-Control"]
        assert download.headers["Content-Disposition"] == (
            f"attachment; filename={done['file']['filename']}")
        data = download.data
    row = db.session.get(Job, done["id"])
    expected = io.BytesIO()
    with budget_export(call, WorkbookFilters(voucher_types=("travel",))) as export:
        export.write(expected, generated_by=generated_by(manager), now=row.started_at)
    assert _members(data) == _members(expected.getvalue())
    assert len(data) == done["file"]["size"]


def test_a_job_is_its_requesters_alone(app, client, make, manager, as_manager,
                                       call_with_vouchers):
    response = client.post(f"{API}/calls/{call_with_vouchers.id}/workbook", json={},
                           headers=as_manager)
    location = response.headers["Location"]
    job_runner.drain(app)
    other = used(client, bearer(make.manager()))
    for url in (location, f"{location}/file"):
        assert is_problem(client.get(url, headers=other), 404)
    assert is_problem(client.post(f"{location}/retry", headers=other), 404)
    assert is_problem(client.get(location), 401)


def test_a_partner_manager_may_not_ask_for_the_workbook(client, make, call_with_vouchers):
    partner = make.partner(call_with_vouchers.programme, regions=[("NL", "North Brabant",
                                                                   "NL41")])
    headers = used(client, bearer(make.manager(partner=partner)))
    before = snapshot()
    response = client.post(f"{API}/calls/{call_with_vouchers.id}/workbook", json={},
                           headers=headers)
    assert is_problem(response, 404)
    assert snapshot() == before


def test_bad_filters_queue_nothing(client, make, as_manager, call_with_vouchers):
    url = f"{API}/calls/{call_with_vouchers.id}/workbook"
    response = client.post(url, json={"from": "2027-02-01", "to": "2027-01-01"},
                           headers=as_manager)
    assert is_problem(response, 422)
    assert response.json["errors"] == {"to": ["The end of the award date range is before its "
                                              "start."]}
    response = client.post(url, json={"type": ["spaceflight"]}, headers=as_manager)
    assert is_problem(response, 422) and "type" in response.json["errors"]
    assert _jobs() == 0
    read_only = used(client, bearer(make.manager(), "read"))
    assert is_problem(client.post(url, json={}, headers=read_only), 403)
    assert _jobs() == 0


# A kind only this module uses: it waits for the test, then fails once or makes its file.
GO = threading.Event()
FAIL_NEXT: list[str] = []


@kind("test_api_waiting", permits=lambda user, p: user.role == "manager",
      origin=lambda p: ("manager.my_files", {}))
def _waiting(run, target):
    run.progress(30, "Waiting for the test")
    assert GO.wait(30), "the test never let the job go on"
    if FAIL_NEXT:
        raise RuntimeError(FAIL_NEXT.pop())
    target.write(b"made")
    return Made("made.txt", "text/plain")


def test_a_file_not_made_yet_is_409_a_failed_one_says_why_and_retry_makes_it(app, client,
                                                                            manager,
                                                                            as_manager):
    GO.clear()
    FAIL_NEXT[:] = []
    job = service.submit("test_api_waiting", {}, title="A waiting file", user=manager)
    db.session.commit()
    url = f"{API}/jobs/{job.id}"
    try:
        response = client.get(f"{url}/file", headers=as_manager)
        assert is_problem(response, 409)
        assert response.json["detail"].startswith("This file is being made")
        assert client.get(url, headers=as_manager).json["state"] in ("queued", "running")
    finally:
        GO.set()
    job_runner.drain(app)
    assert client.get(url, headers=as_manager).json["state"] == "done"
    response = client.post(f"{url}/retry", headers=as_manager)
    assert is_problem(response, 422) and response.json["detail"] == (
        "This file is ready: download it.")

    # Expired: 410, and a retry makes it again.
    db.session.get(Job, job.id).expires_at = db.session.get(Job, job.id).created_at
    db.session.commit()
    assert client.get(url, headers=as_manager).json["state"] == "expired"
    assert is_problem(client.get(f"{url}/file", headers=as_manager), 410)
    FAIL_NEXT.append("the disk is full")
    response = client.post(f"{url}/retry", headers=as_manager)
    assert response.status_code == 202 and response.headers["Location"] == url
    job_runner.drain(app)
    failed = client.get(url, headers=as_manager).json
    assert failed["state"] == "failed" and failed["file"] is None
    response = client.get(f"{url}/file", headers=as_manager)
    assert is_problem(response, 409)
    assert response.json["detail"] == f"The file could not be made: {failed['message']}"
    assert client.post(f"{url}/retry", headers=as_manager).status_code == 202
    job_runner.drain(app)
    with client.get(f"{url}/file", headers=as_manager) as download:
        assert download.status_code == 200 and download.data == b"made"


# --- the document ----------------------------------------------------------------------------


def test_each_action_is_documented_with_its_forms_fields(client):
    document = client.get("/api/openapi.json").json
    schemas = document["components"]["schemas"]
    for name, action in ACTIONS.items():
        operation = document["paths"][
            f"{API}/applications/{{application_id}}/actions/{name}"]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[ref.rsplit("/", 1)[1]]
        form = action.form(formdata=None, meta={"csrf": False})
        assert set(body["properties"]) == {f.name for f in form}, name
        assert body["additionalProperties"] is False
        assert set(operation["responses"]) >= {"200", "401", "403", "404", "409", "422"}
    job = document["paths"][f"{API}/jobs/{{job_id}}"]["get"]["responses"]
    assert {"200", "304", "404"} <= set(job)
    workbook = document["paths"][f"{API}/calls/{{call_id}}/workbook"]["post"]["responses"]
    assert "Location" in workbook["202"]["headers"]
