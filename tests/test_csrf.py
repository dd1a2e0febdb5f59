"""Every state-changing route refuses a request without a valid CSRF token.

The routes are taken from the app's URL map, so a POST route added later is covered
without anyone remembering to list it here.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from tests.factories import PASSWORD
from tests.helpers import page_rules, snapshot
from vouchers.extensions import db
from vouchers.models import (
    Application,
    Assignment,
    Attachment,
    Call,
    CallVoucherType,
    Criterion,
    FinalReport,
    Invitation,
    Organisation,
    Payment,
    Programme,
    Review,
    ServiceProvider,
    User,
)
from vouchers.services import accounts

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# URL argument name (without "_id") -> the model whose ids fill it.
MODELS = {
    "application": Application, "assignment": Assignment, "attachment": Attachment,
    "call": Call, "cvt": CallVoucherType, "voucher_type": CallVoucherType,
    "criterion": Criterion, "report": FinalReport, "invitation": Invitation,
    "organisation": Organisation, "payment": Payment, "programme": Programme,
    "review": Review, "provider": ServiceProvider, "user": User,
}
TOKEN_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def csrf_app(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    return app


@pytest.fixture
def world(csrf_app, make):
    """One of everything, so every URL argument names a real row."""
    call = make.call()
    manager, evaluator = make.manager(), make.evaluator()
    applicant = make.applicant()
    make.application("under_review", call.voucher_type("market_validation"),
                     applicant=applicant, manager=manager, evaluator=evaluator)
    make.application("awarded", call.voucher_type("travel"), applicant=applicant,
                     manager=manager)
    make.application("draft", call.voucher_type("impact"), applicant=applicant)
    _, token = accounts.create_invitation(by=manager, email="eva@agency.example", name="Eva",
                                          role="evaluator")
    db.session.commit()
    return {"applicant": applicant, "evaluator": evaluator, "manager": manager,
            "token": token}


def csrf_token(client, path="/account/login") -> str:
    return TOKEN_FIELD.search(client.get(path).get_data(as_text=True)).group(1)


def login(client, user) -> None:
    response = client.post("/account/login", data={
        "email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 303, "logging in with a valid token must work"
    from tests.helpers import second_factor_passed

    second_factor_passed(client, user)  # the manager has none: not what is tested here


def _first_id(model) -> int:
    return db.session.scalar(select(model.id).order_by(model.id).limit(1)) or 1


def urls_of_unsafe_routes(app, world) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every route that accepts an unsafe method."""
    strings = {"token": world["token"], "action": "award", "voucher_type": "travel"}
    found = []
    for rule in page_rules(app):
        methods = sorted((rule.methods or set()) & UNSAFE)
        if not methods:
            continue
        values = {}
        for name in rule.arguments:
            if isinstance(rule._converters[name], IntegerConverter):
                model = MODELS.get(name.removesuffix("_id"))
                values[name] = _first_id(model) if model is not None else 1
            else:
                values[name] = strings.get(name, "1")
        path = rule.build(values, append_unknown=False)[1]
        found.extend((rule.endpoint, method, path) for method in methods)
    return found


@pytest.mark.parametrize("role", [None, "applicant", "evaluator", "manager"])
def test_every_unsafe_route_refuses_a_request_without_a_valid_token(csrf_app, world, role):
    client = csrf_app.test_client()
    if role:
        login(client, world[role])
    routes = urls_of_unsafe_routes(csrf_app, world)
    endpoints = {endpoint for endpoint, _, _ in routes}
    assert {"auth.login", "auth.logout", "auth.register", "auth.change_password",
            "auth.accept_invitation", "manager.disable_user", "manager.enable_user",
            "manager.unlock_user", "manager.revoke_invitation",
            "manager.invite_user"} <= endpoints
    before = snapshot()
    for endpoint, method, url in routes:
        for data in ({}, {"csrf_token": "forged-token"}):
            response = client.open(url, method=method, data=data)
            assert response.status_code == 400, (
                f"{method} {url} ({endpoint}) as {role or 'anonymous'} without a valid token "
                f"answered {response.status_code}")
            assert "The form could not be accepted" in response.get_data(as_text=True)
            assert snapshot() == before, f"{method} {url} ({endpoint}) changed the database"
    if role:  # the refused logout did not log out either
        assert client.get("/account/password").status_code == 200


def test_a_token_from_another_session_is_refused(csrf_app, world):
    attacker, victim = csrf_app.test_client(), csrf_app.test_client()
    login(victim, world["manager"])
    forged = csrf_token(attacker)
    target = world["evaluator"]
    response = victim.post(f"/manage/users/{target.id}/disable", data={"csrf_token": forged})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, target.id).enabled


def test_forms_with_a_valid_token_work(csrf_app, world):
    client = csrf_app.test_client()
    login(client, world["manager"])
    target = world["evaluator"]
    token = csrf_token(client, f"/manage/users/{target.id}/disable")
    response = client.post(f"/manage/users/{target.id}/disable", data={"csrf_token": token})
    assert response.status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, target.id).enabled
    assert client.post("/account/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/account/password").status_code == 302
