"""The anonymous visitors' page cache (vouchers/page_cache.py): who is served a kept page,
what is never kept, and when a change shows."""

from __future__ import annotations

import pytest
from flask import Flask, flash, render_template_string
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import update

from tests.helpers import login
from vouchers import page_cache
from vouchers.extensions import db
from vouchers.models import Call


@pytest.fixture
def visitor(app):
    """A browser with no cookie, and a cache emptied of the other tests' pages."""
    page_cache.forget_pages()
    return app.test_client(use_cookies=False)


def retitle_elsewhere(call: Call, title: str) -> None:
    """Change the call as another worker would: committed, but not by this process."""
    call_id = call.id
    db.session.commit()  # ends the test's own snapshot before the other connection writes
    with db.engine.begin() as conn:
        conn.execute(update(Call).where(Call.id == call_id).values(title=title))


def test_anonymous_page_is_kept_and_revalidated_with_its_etag(visitor, make):
    call = make.call()
    first = visitor.get("/")
    assert first.status_code == 200 and call.title in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-cache"
    assert "Cookie" in first.headers["Vary"]
    assert "Set-Cookie" not in first.headers
    etag = first.headers["ETag"]

    retitle_elsewhere(call, "Renamed elsewhere")
    again = visitor.get("/")
    assert again.get_data() == first.get_data()  # served as kept
    unchanged = visitor.get("/", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert unchanged.headers["ETag"] == etag


def test_a_change_shows_once_the_kept_page_expires(visitor, make, app, monkeypatch):
    call = make.call()
    visitor.get("/")
    retitle_elsewhere(call, "Renamed elsewhere")
    assert "Renamed elsewhere" not in visitor.get("/").get_data(as_text=True)
    # The store's own clock moves past the page's life instead of the test sleeping.
    import cachelib.simple

    now = cachelib.simple.time()
    monkeypatch.setattr(cachelib.simple, "time",
                        lambda: now + app.config["PAGE_CACHE_SECONDS"] + 1)
    assert "Renamed elsewhere" in visitor.get("/").get_data(as_text=True)


def test_a_change_committed_here_shows_at_once(visitor, make):
    call = make.call()
    before = visitor.get("/")
    call.title = "Renamed by a manager"
    db.session.commit()
    after = visitor.get("/")
    assert "Renamed by a manager" in after.get_data(as_text=True)
    assert after.headers["ETag"] != before.headers["ETag"]
    # The old validator no longer matches: the browser gets the new page.
    assert visitor.get("/", headers={"If-None-Match": before.headers["ETag"]}).status_code == 200


def test_logged_in_user_never_gets_nor_fills_the_kept_page(visitor, client, make):
    call, applicant = make.call(), make.applicant()
    anonymous = visitor.get("/")
    retitle_elsewhere(call, "Renamed elsewhere")
    login(client, applicant)
    mine = client.get("/")
    html = mine.get_data(as_text=True)
    assert "Logged in as" in html and "Renamed elsewhere" in html
    assert mine.headers["Cache-Control"] == "no-store" and "ETag" not in mine.headers
    # Their page was not kept for the next visitor: the kept page is still the anonymous one.
    later = visitor.get("/")
    assert later.get_data() == anonymous.get_data()
    assert "Logged in as" not in later.get_data(as_text=True)


def test_visitor_with_a_flashed_message_gets_their_own_page(visitor, client, make):
    make.call()
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Your password was changed.")]
    theirs = client.get("/")
    assert "Your password was changed." in theirs.get_data(as_text=True)
    assert "ETag" not in theirs.headers
    assert "Your password was changed." not in visitor.get("/").get_data(as_text=True)


def test_cache_off_draws_every_page(visitor, make, app, monkeypatch):
    call = make.call()
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 0)
    visitor.get("/")
    retitle_elsewhere(call, "Renamed elsewhere")
    page = visitor.get("/")
    assert "Renamed elsewhere" in page.get_data(as_text=True) and "ETag" not in page.headers


def test_operations_files_are_kept_with_their_headers(visitor, make):
    make.call()
    first = visitor.get("/operations.csv")
    again = visitor.get("/operations.csv")
    assert again.get_data() == first.get_data()
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert again.headers["Content-Disposition"] == first.headers["Content-Disposition"]
    assert visitor.get("/operations.csv",
                       headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


@pytest.fixture
def form_app(tmp_path):
    """A page with a form (its CSRF token) and a page that flashes, behind visitor_page."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", PAGE_CACHE_SECONDS=5)
    LoginManager(app).user_loader(lambda user_id: None)
    CSRFProtect(app)
    page_cache.init_app(app)

    @app.get("/form")
    @page_cache.visitor_page
    def form():
        return render_template_string('<input name="csrf_token" value="{{ csrf_token() }}">')

    @app.get("/flashing")
    @page_cache.visitor_page
    def flashing():
        flash("Saved.")
        return "done"

    return app


@pytest.mark.parametrize("path", ["/form", "/flashing"])
def test_a_page_that_writes_the_session_is_never_kept(form_app, path):
    with form_app.test_client(use_cookies=False) as browser:
        first = browser.get(path)
        assert first.status_code == 200 and "Set-Cookie" in first.headers
        assert "ETag" not in first.headers
        with form_app.test_request_context(path):
            assert page_cache.cache.get(f"localhost{path}?") is None
    if path == "/form":
        second = form_app.test_client(use_cookies=False).get(path)
        assert second.get_data() != first.get_data()  # a token of its own
