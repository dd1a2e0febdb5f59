"""Two-factor sign-in, the pages: the login's code step (half signed in until the code),
enforcement for managers (and evaluators when a programme says so), enrolling by the
pages, recovery codes shown once, a manager's reset, the API's tokens unaffected, and odd
input answered without a 500."""

from __future__ import annotations

import re

import pytest

from tests.api_support import bearer, is_problem
from tests.factories import PASSWORD
from tests.helpers import login as set_session_login
from tests.matrix_cases_second_factor import SECRET, code_at, code_now, enrol
from vouchers.extensions import db
from vouchers.models import ChangeRecord, User
from vouchers.services import totp

CODE_PAGE = "/account/login/code"
OVERVIEW = "/account/second-factor"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def text(response) -> str:
    return response.get_data(as_text=True)


def password_step(client, user, **kwargs):
    return client.post("/account/login", data={"email": user.email, "password": PASSWORD},
                       **kwargs)


def signed_in(client) -> bool:
    return client.get("/account/password").status_code == 200


def test_a_user_with_a_second_factor_is_not_signed_in_by_the_password(client, make):
    user = make.applicant()
    enrol(user)
    response = password_step(client, user)
    assert response.status_code == 303 and response.headers["Location"] == CODE_PAGE
    assert not signed_in(client)
    assert client.get("/apply/").status_code == 302  # the login page, nothing else
    page = client.get(CODE_PAGE)
    assert page.status_code == 200 and "Type your code" in text(page)
    assert page.headers["Cache-Control"] == "no-store"
    response = client.post(CODE_PAGE, data={"code": code_now()})
    assert response.status_code == 303 and response.headers["Location"] == "/apply/"
    assert signed_in(client)


def test_only_the_code_step_counts_as_a_sign_in_for_the_inactivity_rule(client, make):
    """Someone who knows the password but not the code must not keep an unused account
    from being disabled (services/retention.py reads last_login_at)."""
    user = make.applicant()
    enrol(user)
    before = db.session.get(User, user.id).last_login_at
    password_step(client, user)
    db.session.expire_all()
    assert db.session.get(User, user.id).last_login_at == before
    client.post(CODE_PAGE, data={"code": code_now()})
    db.session.expire_all()
    after = db.session.get(User, user.id).last_login_at
    assert after is not None and after != before


def test_the_code_page_is_the_same_for_every_account(app, make):
    pages = []
    for user in (make.applicant(), make.manager()):
        enrol(user)
        client = app.test_client()
        password_step(client, user)
        pages.append(TOKEN.sub("", text(client.get(CODE_PAGE))))
        assert user.email not in pages[-1] and user.name not in pages[-1]
    assert pages[0] == pages[1]


def test_the_code_step_keeps_the_next_page(client, make):
    user = make.manager()
    enrol(user)
    password_step(client, user, query_string={"next": "/manage/users"})
    response = client.post(CODE_PAGE, data={"code": code_now()})
    assert response.headers["Location"] == "/manage/users"
    assert client.get("/manage/users").status_code == 200


def test_a_wrong_and_a_reused_code_say_so(client, make):
    user = make.manager()
    enrol(user)
    password_step(client, user)
    wrong = "000000" if code_now() != "000000" else "111111"
    response = client.post(CODE_PAGE, data={"code": wrong})
    assert response.status_code == 422 and "That code is not right" in text(response)
    code = code_now()
    assert client.post(CODE_PAGE, data={"code": code}).status_code == 303
    client.post("/account/logout")
    password_step(client, user)
    response = client.post(CODE_PAGE, data={"code": code})
    assert response.status_code == 422 and "That code was used already" in text(response)
    assert not signed_in(client)


def test_wrong_codes_are_throttled(client, make):
    user = make.manager()
    enrol(user)
    password_step(client, user)
    wrong = "000000" if code_now() != "000000" else "111111"
    statuses = [client.post(CODE_PAGE, data={"code": wrong}).status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]
    response = client.post(CODE_PAGE, data={"code": code_now()})
    assert response.status_code == 429 and "Too many failed attempts" in text(response)
    assert response.headers["Retry-After"]


def test_a_recovery_code_signs_in_once(client, make):
    user = make.manager()
    first, *_ = enrol(user)
    password_step(client, user)
    response = client.post(CODE_PAGE, data={"code": first}, follow_redirects=True)
    assert "You signed in with a recovery code" in text(response)
    assert "9 of them left" in text(response)
    client.post("/account/logout")
    password_step(client, user)
    assert client.post(CODE_PAGE, data={"code": first}).status_code == 422


@pytest.mark.parametrize("state", [
    {"user": 1, "generation": 0, "until": 1, "next": None},  # expired
    {"user": "1", "generation": 0, "until": 2**40, "next": None},  # tampered types
    {"user": 2**70, "generation": 0, "until": 2**40},
    "not a dict", [], None, {"user": None},
])
def test_a_stale_or_odd_state_goes_back_to_the_login(client, make, state):
    user = make.manager()
    enrol(user)
    if isinstance(state, dict) and state.get("user") == 1:
        state = {**state, "user": user.id}
    with client.session_transaction() as session:
        session["second_factor_pending"] = state
    for response in (client.get(CODE_PAGE), client.post(CODE_PAGE, data={"code": code_now()})):
        assert response.status_code in (302, 303)
        assert response.headers["Location"].startswith("/account/login")
    assert not signed_in(client)


def test_an_ended_session_generation_goes_back_to_the_login(client, make):
    user = make.manager()
    enrol(user)
    password_step(client, user)
    user.session_generation += 1  # logged out everywhere meanwhile
    db.session.commit()
    response = client.post(CODE_PAGE, data={"code": code_now()})
    assert response.headers["Location"] == "/account/login"
    assert not signed_in(client)


def test_the_code_page_without_a_sign_in_says_there_is_nothing_to_type(client):
    page = client.get(CODE_PAGE)
    assert page.status_code == 200 and "No sign-in is waiting for a code" in text(page)
    assert client.post(CODE_PAGE, data={"code": "123456"}).headers["Location"] == \
        "/account/login"


def test_a_manager_without_a_second_factor_reaches_only_the_enrolment(client, make):
    manager = make.manager()
    assert password_step(client, manager).status_code == 303
    for path in ("/manage/", "/manage/users", "/account/password", "/account/tokens",
                 "/account/mail"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == OVERVIEW, path
    response = client.post("/manage/users/1/disable", data={})
    assert response.headers["Location"] == OVERVIEW
    page = client.get(OVERVIEW)
    assert "Your role requires two-factor sign-in" in text(page)
    # Set up through the pages: the secret is on the page, as text and as an inline SVG.
    response = client.post("/account/second-factor/start")
    assert response.headers["Location"] == "/account/second-factor/confirm"
    page = client.get("/account/second-factor/confirm")
    assert "<svg" in text(page) and page.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', text(page)).group(1)
    secret = secret.replace(" ", "")
    db.session.expire_all()
    assert totp.pending_secret(db.session.get(User, manager.id)) == secret
    wrong = client.post("/account/second-factor/confirm", data={"code": "12"})
    assert wrong.status_code == 422 and "not right" in text(wrong)
    done = client.post("/account/second-factor/confirm", data={"code": code_now(secret)})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([a-z2-9-]+)</code>", text(done))
    assert len(codes) == 10 and "only time they are" in text(done)
    assert client.get("/manage/users").status_code == 200  # this session proved the code
    assert not any(c in text(client.get(OVERVIEW)) for c in codes)  # shown once


def test_evaluators_must_enrol_only_when_a_programme_requires_it(app, client, make):
    programme = make.call().programme
    evaluator = make.evaluator()
    password_step(client, evaluator)
    assert client.get("/evaluate/").status_code == 200
    manager_client = app.test_client()
    set_session_login(manager_client, make.manager())
    response = manager_client.post(f"/manage/programmes/{programme.id}/second-factor",
                                   data={"required": "y"})
    assert response.status_code == 303
    assert db.session.get(type(programme), programme.id).evaluators_need_second_factor
    assert client.get("/evaluate/").headers["Location"] == OVERVIEW
    page = manager_client.get(f"/manage/programmes/{programme.id}/edit")
    assert 'name="required" value="y" checked' in text(page)


def test_a_session_that_never_passed_the_code_step_is_ended(app, make):
    user = make.applicant()
    laptop = app.test_client()
    password_step(laptop, user)
    assert signed_in(laptop)
    enrol(user)  # on another device
    response = laptop.get("/apply/")
    assert response.headers["Location"] == "/account/login"
    assert not signed_in(laptop)


def test_turning_off_where_allowed(client, make):
    applicant = make.applicant()
    enrol(applicant)
    set_session_login(client, applicant)
    assert "Turn off two-factor sign-in" in text(client.get(OVERVIEW))
    refused = client.post("/account/second-factor/off", data={"off-code": "1"})
    assert refused.headers["Location"] == OVERVIEW
    assert "not right" in text(client.get(OVERVIEW))
    assert client.post("/account/second-factor/off",
                       data={"off-code": code_now()}).status_code == 303
    db.session.expire_all()
    assert not totp.is_enabled(db.session.get(User, applicant.id))


def test_a_manager_cannot_turn_it_off(client, make):
    manager = make.manager()
    enrol(manager)
    set_session_login(client, manager)
    assert "Turn off two-factor sign-in" not in text(client.get(OVERVIEW))
    assert client.post("/account/second-factor/off",
                       data={"off-code": code_now()}).status_code == 404
    db.session.expire_all()
    assert totp.is_enabled(db.session.get(User, manager.id))


def test_a_manager_resets_another_users_second_factor_from_the_users_page(app, client, make):
    manager, evaluator = make.manager(), make.evaluator()
    enrol(evaluator)
    theirs = app.test_client()
    password_step(theirs, evaluator)
    theirs.post(CODE_PAGE, data={"code": code_now()})
    assert signed_in(theirs)
    set_session_login(client, manager)
    users = text(client.get("/manage/users"))
    assert f"/manage/users/{evaluator.id}/second-factor/reset" in users
    page = client.get(f"/manage/users/{evaluator.id}/second-factor/reset")
    assert "every session of the account ends" in text(page)
    response = client.post(f"/manage/users/{evaluator.id}/second-factor/reset",
                           data={"reason": "Lost phone, called back"})
    assert response.headers["Location"] == "/manage/users"
    assert not signed_in(theirs)
    record = db.session.query(ChangeRecord).filter_by(subject_id=evaluator.id,
                                                      action="second factor reset").one()
    assert record.actor_id == manager.id and record.reason == "Lost phone, called back"
    again = client.post(f"/manage/users/{evaluator.id}/second-factor/reset", data={})
    assert again.status_code == 422 and "no two-factor sign-in to reset" in text(again)
    assert client.get(f"/manage/users/{manager.id}/second-factor/reset").status_code == 404


def test_api_tokens_are_not_gated_but_an_unfinished_cookie_session_is(app, client, make):
    path = f"/api/v1/manage/applications?call_id={make.call().id}"
    manager = make.manager()  # no second factor yet
    headers = bearer(manager, "read")
    assert client.get(path, headers=headers).status_code == 200
    password_step(client, manager)
    response = client.get(path)
    assert is_problem(response, 403)


@pytest.mark.parametrize("code", ["", " ", "x" * 65, "x" * 5000, "١٢٣٤٥٦", "12\x0034",
                                  "<script>", "' OR 1=1 --"])
def test_odd_codes_never_fail_with_a_500(client, make, code):
    user = make.applicant()
    enrol(user)
    password_step(client, user)
    response = client.post(CODE_PAGE, data={"code": code})
    assert response.status_code in (400, 422), response.status_code
    set_session_login(client, user)
    for path, field in (("/account/second-factor/recovery-codes", "renew-code"),
                        ("/account/second-factor/off", "off-code")):
        assert client.post(path, data={field: code}).status_code in (303, 400)
    assert client.post("/account/second-factor/confirm", data={"code": code}
                       ).status_code in (303, 400)


def test_new_recovery_codes_need_a_current_code(client, make):
    user = make.applicant()
    old = enrol(user)
    set_session_login(client, user)
    page = client.post("/account/second-factor/recovery-codes",
                       data={"renew-code": code_at(1, SECRET)})
    assert page.status_code == 200
    new = re.findall(r"<code>([a-z2-9-]+)</code>", text(page))
    assert len(new) == 10 and not set(new) & set(old)
