"""The account page's API tokens: made with a name, a scope and a lifetime, shown once,
listed with their state, revoked by their owner only; a disabled account's stop working."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.api_support import is_problem, token_of
from tests.helpers import login, snapshot
from tests.test_csrf import csrf_token
from tests.test_csrf import login as login_with_form
from vouchers.extensions import db
from vouchers.models import ApiToken
from vouchers.models.base import utcnow
from vouchers.services import accounts, api_tokens

PAGE = "/account/tokens"
SECRET = re.compile(r'value="(vt_[A-Za-z0-9_-]+)"')


def _create(client, **fields):
    data = {"name": "invoicing script", "scope": "read", "days": "30"} | fields
    return client.post(PAGE, data=data)


def _calls(client, secret):
    return client.get("/api/v1/calls", headers={"Authorization": f"Bearer {secret}"})


def _tokens(user) -> list[ApiToken]:
    db.session.expire_all()
    return db.session.scalars(db.select(ApiToken).where(ApiToken.user_id == user.id)).all()


def test_the_page_is_for_signed_in_users_only(client, make):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    login(client, make.applicant())
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "You have no token yet." in html and 'name="days"' in html


def test_a_new_token_is_shown_once_in_the_answer_and_works(client, make):
    user = make.evaluator()
    login(client, user)
    response = _create(client, name="nightly export", scope="write", days="7")
    assert response.status_code == 200  # the page itself: no redirect carrying it
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    secret = SECRET.search(html).group(1)
    assert "shown only this once" in html
    [row] = _tokens(user)
    assert (row.name, row.scope, row.prefix) == ("nightly export", "write", secret[:10])
    assert row.expires_at - row.created_at == timedelta(days=7)
    assert row.token_hash != secret and secret not in row.token_hash
    # Neither the session (flashes live there) nor the next page holds it.
    with client.session_transaction() as session:
        assert secret not in repr(dict(session))
    again = client.get(PAGE).get_data(as_text=True)
    assert secret not in again and f"{secret[:10]}…" in again
    assert _calls(client, secret).status_code == 200


@pytest.mark.parametrize("fields, message", [
    ({"name": "  "}, "Give the token a name"),
    ({"days": "0"}, "From 1 to 366 days."),
    ({"days": "367"}, "From 1 to 366 days."),
    ({"days": "99999999999999999999999"}, "From 1 to 366 days."),
    ({"days": "soon"}, "Not a valid integer value."),
    ({"scope": "admin"}, "Not a valid choice."),
    ({"name": "x" * 201}, "At most 200 characters."),
])
def test_a_bad_form_makes_no_token_and_says_why(client, make, fields, message):
    user = make.applicant()
    login(client, user)
    response = _create(client, **fields)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and not SECRET.search(html)
    assert _tokens(user) == []


def test_the_list_shows_each_tokens_state_and_only_the_users_own(client, make):
    user, other = make.applicant(), make.applicant()
    live, revoked, expired = (token_of(user, "read"), token_of(user, "write"),
                              token_of(user, "read"))
    token_of(other)
    rows = {r.prefix: r for r in _tokens(user)}
    rows[revoked[:10]].revoked_at = utcnow()
    old = rows[expired[:10]]
    old.created_at, old.expires_at = utcnow() - timedelta(days=9), utcnow() - timedelta(days=2)
    db.session.commit()
    _calls(client, live)  # records its last use
    login(client, user)
    html = client.get(PAGE).get_data(as_text=True)
    assert html.count("<tr>") == 1 + 3  # the header and the user's three, not the other's
    assert {"Active", "Expired"} <= set(re.findall(r'class="badge">(\w+)', html))
    assert re.search(r'class="badge">Revoked \d', html)
    assert html.count(">Never<") == 2  # the two never used; the live one was
    # A revoked token has no button any more; the two others do.
    assert html.count("/revoke") == 2


def test_the_owner_revokes_a_token_and_it_stops_working(client, make):
    user = make.applicant()
    secret = token_of(user)
    [row] = _tokens(user)
    login(client, user)
    response = client.post(f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    assert "is revoked" in client.get(PAGE).get_data(as_text=True)
    assert _tokens(user)[0].revoked_at is not None
    assert is_problem(_calls(client, secret), 401)


def test_nobody_revokes_or_sees_another_users_token(client, make):
    owner = make.applicant()
    secret = token_of(owner)
    [row] = _tokens(owner)
    # (A manager would be asked for a second factor first: tests of the two-factor pages.)
    intruders = (make.applicant(), make.evaluator())
    before = snapshot()
    for intruder in intruders:
        login(client, intruder)
        assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 404
        assert secret[:10] not in client.get(PAGE).get_data(as_text=True)
    assert client.post("/account/tokens/999999/revoke").status_code == 404
    assert snapshot() == before
    assert _calls(client, secret).status_code == 200


def test_a_disabled_accounts_tokens_stop_working(client, make):
    user, manager = make.applicant(), make.manager()
    secret = token_of(user, "write")
    assert _calls(client, secret).status_code == 200
    accounts.disable_account(user, manager, "left the company")
    db.session.commit()
    response = _calls(client, secret)
    assert is_problem(response, 401)
    assert api_tokens.authenticate(secret) is None
    # Revoked, not only refused while disabled: enabling the account again (after a
    # theft, say) does not bring the old token back.
    assert all(t.revoked_at is not None for t in _tokens(user))
    accounts.enable_account(user, manager)
    db.session.commit()
    assert is_problem(_calls(client, secret), 401)


def test_creating_and_revoking_need_the_pages_csrf_token(app, make, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    user = make.evaluator()
    client = app.test_client()
    login_with_form(client, user)
    assert _create(client).status_code == 400
    assert _tokens(user) == []
    form_token = csrf_token(client, PAGE)
    response = _create(client, csrf_token=form_token)
    assert response.status_code == 200
    [row] = _tokens(user)
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 400
    assert client.post(f"/account/tokens/{row.id}/revoke",
                       data={"csrf_token": form_token}).status_code == 303
    assert _tokens(user)[0].revoked_at is not None
