"""Every page of every role, opened in the browser: the walk the accessibility and the
narrow-screen tests share.

The pages are not listed by hand: the walk reads the URL map's GET routes (the pages'
rules of tests/helpers.page_rules, so not the API's), fills their arguments from the world
of the page authorization matrix (tests/test_authorization_matrix.py) and opens each route
its permission lets the role see (the same ``allowed_personas`` the matrix checks). A page
another helper adds joins the walk by itself. What a GET answers other than an HTML page
(a download, a CSV, JSON, the favicon) is left out, and so are the static files.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import url_for

from tests.factories import Factories
from tests.helpers import login, page_rules
from tests.test_authorization_matrix import allowed_personas, world

# The roles of the issue; the matrix's other personas (a second applicant, a conflicted
# evaluator, another partner's manager) see the same templates with less in them.
ROLES = ("anonymous", "applicant", "evaluator", "manager", "partner_manager")
# A page of this app answers in milliseconds; Playwright's default wait is 30 s.
TIMEOUT_MS = 10_000


def build_world(app) -> tuple[dict, dict]:
    """The matrix's world (its users and a value for every URL argument), committed in
    the live server's database. The fixture's own function, so the two never drift."""
    with app.app_context():
        users, args = world.__wrapped__(app, Factories())
        return {role: users[role].id for role in ROLES if role in users}, args


def visiting_roles(app, endpoint: str) -> list[str]:
    """The roles the walk opens a page as: every role its permission lets in, except that
    a page open to every signed-in user (the public pages, the account's own) is opened
    once, as the first role let in. Its body is the same for all of them; what differs,
    each role's header, is checked on that role's own pages."""
    allowed = [role for role in ROLES if role in allowed_personas(app, endpoint)]
    if set(ROLES) - {"anonymous"} <= set(allowed):
        return allowed[:1]
    return allowed


def page_urls(app, role: str, args: dict) -> list[str]:
    """The URL of every GET page the role may see, in the URL map's order."""
    urls = []
    with app.test_request_context():
        for rule in page_rules(app):
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            if role not in visiting_roles(app, rule.endpoint):
                continue
            urls.append(url_for(rule.endpoint, **{k: args[k] for k in rule.arguments}))
    return urls


def session_cookie(app, base_url: str, user_id: int | None) -> list[dict]:
    """The session cookie of ``user_id`` signed in (none for anonymous): the matrix's way
    of signing in, so that what the walk checks is the pages, not the login form (the
    keyboard test signs in through the form)."""
    if user_id is None:
        return []
    from vouchers.extensions import db
    from vouchers.models import User

    client = app.test_client()
    with app.app_context():
        login(client, db.session.get(User, user_id))
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return [{"name": cookie.key, "value": cookie.value, "url": base_url}]


def _world_of(app):
    """The matrix's world, built once per live server: a test per role reads the same."""
    if "every_page_world" not in app.extensions:
        app.extensions["every_page_world"] = build_world(app)
    return app.extensions["every_page_world"]


def walk(browser, live_server, check: Callable, roles: tuple[str, ...] = ROLES,
         **context_options) -> tuple[list, list]:
    """Open every page of each of ``roles``; answer what ``check(page)`` found wrong on
    them (each finding prefixed with the role and the page's path) and the pages opened.

    One browser context per role, its pages one after another in one tab."""
    app, base_url = live_server
    user_ids, args = _world_of(app)
    findings, opened = [], []
    for role in roles:
        context = browser.new_context(**context_options)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies(session_cookie(app, base_url, user_ids.get(role)))
        page = context.new_page()
        try:
            for path in page_urls(app, role, args):
                # Ask first (with the role's cookies): a download would not open as a page.
                answer = context.request.get(base_url + path)
                is_page = answer.ok and answer.headers.get("content-type", "").startswith(
                    "text/html")
                answer.dispose()
                if not is_page:
                    continue
                page.goto(base_url + path)
                landed = page.url.removeprefix(base_url)
                if f"{role} {landed}" in opened:  # sent elsewhere, to a page already seen
                    continue
                opened.append(f"{role} {landed}")
                findings += [f"{role} {landed}: {finding}" for finding in check(page)]
        finally:
            context.close()
    return findings, opened
