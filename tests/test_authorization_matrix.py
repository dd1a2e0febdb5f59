"""Every route of the URL map, as every kind of user: who may see and do what.

Each endpoint has a rule below; a route added without one fails this test, so no
route can forget its permission check unnoticed. GET requests of allowed users must
succeed; every other user, on GET and on POST, is refused (a 404, or the login page
for anonymous visitors) and the database is left exactly as it was.
"""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from tests.helpers import PDF, login, logout, snapshot
from vouchers.extensions import db
from vouchers.services import accounts, attachments, reviews

PERSONAS = ("anonymous", "applicant", "other_applicant", "evaluator", "conflicted_evaluator",
            "manager")
EVERYONE = set(PERSONAS)
SIGNED_IN = EVERYONE - {"anonymous"}

# rule -> the personas allowed
ALLOWED = {
    "public": EVERYONE,
    "signed_in": SIGNED_IN,
    "applicant": {"applicant", "other_applicant"},
    "owner": {"applicant"},
    "evaluator": {"evaluator", "conflicted_evaluator"},
    "assigned": {"evaluator"},
    "viewer": {"applicant", "evaluator", "manager"},
    "manager": {"manager"},
}

RULES = {
    "static": "public",
    "public.index": "public",
    "auth.login": "public",
    "auth.register": "public",
    "auth.accept_invitation": "public",
    "auth.logout": "public",  # logging out when not logged in just goes home
    "auth.change_password": "signed_in",
    "applicant.home": "applicant",
    "applicant.profile": "applicant",
    "applicant.new_application": "applicant",
    "applicant.application": "owner",
    "applicant.edit": "owner",
    "applicant.submit": "owner",
    "applicant.withdraw": "owner",
    "applicant.cancel": "owner",
    "applicant.upload": "owner",
    "applicant.delete_attachment": "owner",
    "applicant.start_report": "owner",
    "applicant.report": "owner",
    "evaluator.home": "evaluator",
    "evaluator.application": "assigned",
    "evaluator.declare_conflict": "assigned",
    "evaluator.submit_review": "assigned",
    "files.download": "viewer",
}
MANAGER_ENDPOINTS_PREFIX = "manager."


def rule_for(endpoint: str) -> str:
    if endpoint in RULES:
        return RULES[endpoint]
    # Every manager route is guarded by the blueprint; a new one is checked as such.
    if endpoint.startswith(MANAGER_ENDPOINTS_PREFIX):
        return "manager"
    raise AssertionError(f"no authorization rule for endpoint {endpoint!r}: add it to RULES")


@pytest.fixture
def world(app, make):
    """An application under review, with an attachment, two evaluators (one conflicted)."""
    call = make.call()
    cvt = call.voucher_type("market_validation")
    manager = make.manager()
    owner = make.applicant()
    application = make.draft(cvt, owner)
    upload = FileStorage(io.BytesIO(PDF), "quote.pdf", content_type="application/pdf")
    attachment = attachments.add_attachment(application, owner, upload, "application")
    make.step(application, "submit", applicant=owner, manager=manager)
    evaluator = make.evaluator()
    conflicted = make.evaluator()
    for e in (evaluator, conflicted):
        reviews.assign(application, e, manager)
    reviews.declare_conflict(application, conflicted, "My former employer.")
    db.session.commit()
    invitation, token = accounts.create_invitation(by=manager, email="new@x.example",
                                                    name="New Evaluator", role="evaluator")
    db.session.commit()
    users = {"applicant": owner, "other_applicant": make.applicant(), "evaluator": evaluator,
             "conflicted_evaluator": conflicted, "manager": manager}
    args = {"application_id": application.id, "attachment_id": attachment.id,
            "cvt_id": cvt.id, "call_id": call.id, "user_id": users["other_applicant"].id,
            "provider_id": application.provider_id, "invitation_id": invitation.id,
            "token": token, "action": "award", "filename": "app.css",
            "organisation_id": application.organisation_id}
    return users, args


def _url(app, rule, args):
    missing = set(rule.arguments) - set(args)
    assert not missing, f"{rule.endpoint}: no test value for {missing}"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{k: args[k] for k in rule.arguments})


def _as(client, users, persona):
    logout(client)
    if persona != "anonymous":
        login(client, users[persona])


def _refused(response, persona) -> bool:
    if response.status_code == 404:
        return True
    # Anonymous visitors are sent to the login page instead.
    return (persona == "anonymous" and response.status_code == 302
            and "/account/login" in response.headers["Location"])


def test_every_route_has_a_rule(app):
    for rule in app.url_map.iter_rules():
        rule_for(rule.endpoint)


def test_get_matrix(app, client, world):
    users, args = world
    problems = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = _url(app, rule, args)
        allowed = ALLOWED[rule_for(rule.endpoint)]
        for persona in PERSONAS:
            _as(client, users, persona)
            response = client.get(url)
            response.close()  # file downloads hold their file open until closed
            refused = _refused(response, persona)
            if persona in allowed and (refused or response.status_code >= 400):
                problems.append(f"{persona} GET {url}: {response.status_code}, expected access")
            if persona not in allowed and not refused:
                problems.append(f"{persona} GET {url}: {response.status_code}, expected 404")
    assert problems == []


def test_post_matrix_refuses_everyone_not_allowed_and_changes_nothing(app, client, world):
    users, args = world
    problems = []
    before = snapshot()
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        url = _url(app, rule, args)
        allowed = ALLOWED[rule_for(rule.endpoint)]
        for persona in sorted(EVERYONE - allowed):
            _as(client, users, persona)
            response = client.post(url, data={"comment": "x", "reason": "x", "amount": "1"})
            if not _refused(response, persona):
                problems.append(f"{persona} POST {url}: {response.status_code} "
                                f"{response.headers.get('Location')}, expected 404")
    assert problems == []
    assert snapshot() == before
