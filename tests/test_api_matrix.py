"""The API's authorization matrix: every rule under /api/v1, as every persona of the page
matrix's world, each with a token that reads and writes.

Who may pass is read from the route's declared predicate (``view_func.permission``, set
by vouchers/api/boundary.api_route) and the page matrix's ALLOWED_BY, never written here:
a route added with a predicate ALLOWED_BY does not know, or without one, fails. Everyone
else is refused (a 401 problem for anonymous callers, a 404 problem otherwise) and the
database is left as it was. A read-only token of an allowed persona changes nothing
(403), and neither does the session cookie without the page's CSRF token (403).
"""

from __future__ import annotations

import re

import pytest

from tests.api_matrix_cases import GET_STATUSES, WRITE_BODY, url_args
from tests.api_support import bearer, is_problem
from tests.helpers import login, logout, snapshot
from tests.test_authorization_matrix import (  # noqa: F401  (world: the fixture)
    ALLOWED_BY,
    PERSONAS,
    _url,
    allowed_personas,
    world,
)
from vouchers.api import API_PREFIX
from vouchers.api.boundary import SAFE_METHODS
from vouchers.models import Application

PREFIX = API_PREFIX + "/"


def api_rules(app) -> list:
    return sorted((r for r in app.url_map.iter_rules() if r.rule.startswith(PREFIX)),
                  key=lambda r: r.rule)


def writes_of(rule) -> list[str]:
    return sorted(set(rule.methods) - SAFE_METHODS)


def required_query(app, rule, args: dict) -> dict:
    """The query parameters the document says the rule's GET needs, from the world."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
    document = app.test_client().get("/api/openapi.json").json
    operation = document["paths"].get(path, {}).get("get", {})
    names = [p["name"] for p in operation.get("parameters", [])
             if p.get("in") == "query" and p.get("required")]
    missing = set(names) - set(args)
    assert not missing, f"{rule.rule}: no world value for the query's {missing}"
    return {name: args[name] for name in names}


def _refused(response, persona: str) -> bool:
    return is_problem(response, 401 if persona == "anonymous" else 404)


@pytest.fixture
def callers(app, world):  # noqa: F811
    """Each persona's headers: a token that reads and writes, and one that only reads."""
    users, args = world
    write = {p: {} if p == "anonymous" else bearer(users[p], "write") for p in PERSONAS}
    read = {p: {} if p == "anonymous" else bearer(users[p], "read") for p in PERSONAS}
    # A token's first use records it (and then only every few minutes): done here, so
    # the snapshots below see only what the routes themselves write.
    client = app.test_client()
    for headers in (*write.values(), *read.values()):
        client.get(PREFIX + "calls", headers=headers)
    return users, url_args(args), write, read


def test_the_api_has_routes_and_each_declares_a_known_permission(app):
    rules = api_rules(app)
    assert any(r.rule == PREFIX + "calls" for r in rules)
    for rule in rules:
        allowed_personas(app, rule.endpoint)  # asserts the declaration and ALLOWED_BY


def test_an_api_route_without_a_known_permission_fails_the_matrix(app):
    def undeclared():
        return {}

    def unknown():
        return {}

    unknown.permission = lambda user, obj=None: True
    unknown.permission.__name__ = "can_do_anything"
    app.view_functions["api_manager.undeclared"] = undeclared
    app.view_functions["api_manager.unknown"] = unknown
    try:
        with pytest.raises(AssertionError, match="declares no permission"):
            allowed_personas(app, "api_manager.undeclared")
        with pytest.raises(AssertionError, match="say in ALLOWED_BY"):
            allowed_personas(app, "api_manager.unknown")
    finally:
        del app.view_functions["api_manager.undeclared"]
        del app.view_functions["api_manager.unknown"]
    assert "can_do_anything" not in ALLOWED_BY


def test_get_matrix(app, client, callers):
    users, args, write, _ = callers
    problems = []
    for rule in api_rules(app):
        if "GET" not in rule.methods:
            continue
        url = _url(app, rule, args)
        query = required_query(app, rule, args)
        allowed = allowed_personas(app, rule.endpoint)
        expected = GET_STATUSES.get(rule.endpoint, {200})
        for persona in PERSONAS:
            response = client.get(url, query_string=query, headers=write[persona])
            response.close()  # a file download holds its file open until closed
            if persona in allowed and response.status_code not in expected:
                problems.append(f"{persona} GET {url}: {response.status_code}, expected "
                                f"{sorted(expected)}: {response.get_data(as_text=True)[:200]}")
            if persona not in allowed and not _refused(response, persona):
                problems.append(f"{persona} GET {url}: {response.status_code}, expected a "
                                "refusal")
    assert not problems, "\n".join(problems)


def test_write_matrix_refuses_everyone_not_allowed_and_changes_nothing(app, client, callers):
    users, args, write, _ = callers
    problems = []
    before = snapshot()
    for rule in api_rules(app):
        url = _url(app, rule, args)
        allowed = allowed_personas(app, rule.endpoint)
        for method in writes_of(rule):
            for persona in sorted(set(PERSONAS) - allowed):
                response = client.open(url, method=method, json=WRITE_BODY,
                                       headers=write[persona])
                if not _refused(response, persona):
                    problems.append(f"{persona} {method} {url}: {response.status_code}, "
                                    "expected a refusal")
    assert not problems, "\n".join(problems)
    assert snapshot() == before


def test_a_read_only_token_changes_nothing(app, client, callers):
    users, args, _, read = callers
    problems = []
    before = snapshot()
    for rule in api_rules(app):
        url = _url(app, rule, args)
        for method in writes_of(rule):
            for persona in sorted(allowed_personas(app, rule.endpoint) - {"anonymous"}):
                response = client.open(url, method=method, json=WRITE_BODY,
                                       headers=read[persona])
                if not is_problem(response, 403):
                    problems.append(f"{persona} {method} {url} with a read-only token: "
                                    f"{response.status_code}, expected 403")
    assert not problems, "\n".join(problems)
    assert snapshot() == before


def test_the_session_cookie_without_the_csrf_token_changes_nothing(app, client, callers,
                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    users, args, _, _ = callers
    problems = []
    before = snapshot()
    for rule in api_rules(app):
        url = _url(app, rule, args)
        for method in writes_of(rule):
            for persona in sorted(allowed_personas(app, rule.endpoint) - {"anonymous"}):
                logout(client)
                login(client, users[persona])
                for headers in ({}, {"X-CSRFToken": "forged"}):
                    response = client.open(url, method=method, json=WRITE_BODY,
                                           headers=headers)
                    if not is_problem(response, 403):
                        problems.append(f"{persona} {method} {url} by cookie with "
                                        f"{headers or 'no CSRF token'}: "
                                        f"{response.status_code}, expected 403")
    logout(client)
    assert not problems, "\n".join(problems)
    assert snapshot() == before


def test_applicant_b_never_reads_applicant_as_application_through_the_api(app, client,
                                                                          callers):
    users, args, write, read = callers
    mine = users["applicant"]
    application = app.extensions["sqlalchemy"].session.get(Application, args["application_id"])
    assert application.organisation_id == mine.organisation_id
    secrets = (application.reference, application.title, application.organisation.legal_name)
    for headers in (write["other_applicant"], read["other_applicant"]):
        for rule in api_rules(app):
            if "GET" not in rule.methods:
                continue
            url = _url(app, rule, args)
            response = client.get(url, query_string=required_query(app, rule, args),
                                  headers=headers)
            response.close()
            if "application_id" in rule.arguments:
                assert _refused(response, "other_applicant"), url
            text = response.get_data(as_text=True) if response.is_json else ""
            assert not any(s in text for s in secrets), f"{url} shows A's application to B"
    # And its owner does read it, so the refusals above are about B, not a broken route.
    own = [r for r in api_rules(app) if "GET" in r.methods and "application_id" in r.arguments
           and "applicant" in allowed_personas(app, r.endpoint)]
    for rule in own:
        response = client.get(_url(app, rule, args), headers=write["applicant"])
        assert response.status_code == 200, rule.rule
        assert application.reference in response.get_data(as_text=True)
