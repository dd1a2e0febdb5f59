"""Response headers, session cookie flags, error pages and the logging of refusals."""

from __future__ import annotations

import logging

import pytest
from werkzeug.exceptions import TooManyRequests

from tests.factories import PASSWORD


def login(client, user, **kwargs):
    response = client.post("/account/login", data={"email": user.email,
                                                    "password": PASSWORD}, **kwargs)
    from tests.helpers import second_factor_passed

    second_factor_passed(client, user)  # a manager has none: not what is tested here
    return response


def assert_protective_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/", "/account/login", "/account/register",
                                  "/static/app.css", "/no/such/page"])
def test_every_response_carries_the_protective_headers(client, path):
    with client.get(path) as response:
        assert_protective_headers(response)


def test_pages_of_a_logged_in_user_are_not_cached(client, make):
    login(client, make.manager())
    response = client.get("/manage/users")
    assert response.status_code == 200
    assert_protective_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def _set_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookie_is_httponly_and_samesite_lax_but_not_secure_over_http(client, make):
    cookie = _set_cookie(login(client, make.applicant()))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(app, make):
    client = app.test_client()
    response = login(client, make.applicant(), base_url="https://vouchers.example")
    cookie = _set_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_secure_can_be_forced(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert "Secure" in _set_cookie(login(client, make.applicant()))


def test_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_permission_refusals_answer_404_and_are_logged(client, make, caplog):
    applicant = make.applicant()
    login(client, applicant)
    with caplog.at_level(logging.WARNING, logger="vouchers"):
        response = client.get("/manage/users")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert any("permission refused" in r.getMessage() and applicant.email in r.getMessage()
               for r in caplog.records)


def test_413_page_when_a_form_is_too_large(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    response = client.post("/account/login", data={"email": "a@b.example",
                                                   "password": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The form is too large" in page and "1.0 MB" in page
    assert_protective_headers(response)


def test_500_page_hides_the_error(app, client, monkeypatch):
    def broken():
        raise RuntimeError("secret internals")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setitem(app.view_functions, "public.index", broken)
    response = client.get("/")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page and "secret internals" not in page
    assert_protective_headers(response)


def test_429_page(app, client, monkeypatch):
    def busy():
        raise TooManyRequests(retry_after=30)

    monkeypatch.setitem(app.view_functions, "public.index", busy)
    response = client.get("/")
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "30"
