"""Bad input gets a clear message and changes nothing (issue 7, item 7).

Each test sends what an attacker or a careless paste would send and checks four things:
the status, the message the person reads, that no row changed (``snapshot``) and that
nothing was logged as an error. Money has its own file, test_bad_input_money.py.
"""

from __future__ import annotations

import html
import logging
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from werkzeug.routing import IntegerConverter

from tests.factories import PASSWORD
from tests.helpers import login, page_rules, snapshot
from tests.test_csrf import csrf_token
from tests.test_csrf import login as login_with_token
from vouchers.boundary import BLUEPRINT_PERMISSIONS
from vouchers.extensions import db
from vouchers.services import reviews

HUGE_IDS = ("99999999999999999999", "2147483648")
ROLES = (None, "applicant", "evaluator", "manager")
CSRF_PAGE = "was not sent from this site"
URLENCODED = "application/x-www-form-urlencoded"


# --- what a browser would send -------------------------------------------------------


class _Forms(HTMLParser):
    """Every form of a page with the values a browser would submit (no button pressed)."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        fields = self.forms[-1][1] if self.forms else {}
        if tag == "form":
            self.forms.append((a.get("action") or "", {}))
        elif tag == "input" and name and a.get("type") not in ("submit", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and ("selected" in a or self._select not in fields):
            fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.forms[-1][1][self._textarea] += data.lstrip("\r\n")


def form_on(client, page: str, action: str | None = None) -> tuple[str, dict[str, str]]:
    """(url, fields) of the form on ``page`` posting to ``action`` (default: the page)."""
    response = client.get(page)
    assert response.status_code == 200, f"GET {page} answered {response.status_code}"
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    wanted = (action or page).partition("?")[0]
    for url, fields in parser.forms:
        target = (url or page).partition("#")[0]
        if target.partition("?")[0] == wanted:
            return target, dict(fields)
    raise AssertionError(f"no form posting to {wanted} on {page}")


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_refused(response, status: int, *says: str, before: dict, caplog) -> None:
    page = text(response)
    assert response.status_code == status, f"answered {response.status_code}, not {status}"
    for words in says:
        assert words in page, f"the page does not say {words!r}"
    assert CSRF_PAGE not in page
    assert_unchanged(before, caplog)


def assert_unchanged(before: dict, caplog) -> None:
    assert snapshot() == before, "a refused request changed the database"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, f"logged: {errors[0].getMessage()}"


# --- one of everything ---------------------------------------------------------------


@pytest.fixture
def world(app, make):
    return World(make)


class World(dict):
    """One of everything, each built the first time a test asks for it (tests stay fast)."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        make = self.make
        app = make.application
        build = {
            "call": make.call, "manager": make.manager, "evaluator": make.evaluator,
            "applicant": make.applicant, "newcomer": lambda: make.user("applicant"),
            "provider": make.provider,
            "draft": lambda: app("draft", self.cvt("market_validation"),
                                 applicant=self["applicant"]),
            "report": lambda: app("reporting", self.cvt("travel"), applicant=self["applicant"],
                                  manager=self["manager"]),
            "under_review": self._under_review,
            "completed": lambda: app("completed", self.cvt("impact"), manager=self["manager"]),
        }[key]
        self[key] = value = build()
        db.session.commit()
        return value

    def cvt(self, voucher_type):
        return self["call"].voucher_type(voucher_type)

    def _under_review(self):
        """Reviewed by another evaluator; assigned to ours, who confirmed having no
        conflict of interest and has not reviewed yet."""
        application = self.make.application("under_review", self.cvt("product_validation"),
                                            manager=self["manager"])
        reviews.assign(application, self["evaluator"], self["manager"])
        reviews.confirm_no_conflict(application, self["evaluator"])
        return application


class Ids:
    """``"/x/{draft}".format_map(Ids(world))``: the ids of the world's objects."""

    def __init__(self, world):
        self.world = world

    def __getitem__(self, key):
        return self.world[key].id


def as_user(client, world, role):
    if role:
        login(client, world[role])
    return client


# --- ids and page numbers ------------------------------------------------------------


def int_routes(app):
    for rule in page_rules(app):
        ints = [n for n in rule.arguments if isinstance(rule._converters[n], IntegerConverter)]
        if ints:
            yield rule, ints


def url_with(rule, ints, value: str, texts: dict[str, str] | None = None) -> str:
    """The rule's URL with ``value`` in every integer argument (built by hand: it may be
    beyond what the converter accepts) and ``texts`` in the others."""
    texts = {"action": "award", "token": "x", **(texts or {})}
    path = rule.rule
    for name in rule.arguments:
        given = value if name in ints else texts.get(name, "x")
        path = re.sub(rf"<(?:[a-z]+:)?{name}>", given, path)
    return path


@pytest.mark.parametrize("role", ROLES)
def test_ids_beyond_the_integer_range_or_zero_are_404_on_every_route(app, client, world,
                                                                    role, caplog):
    as_user(client, world, role)
    routes = list(int_routes(app))
    assert len(routes) > 20
    before = snapshot()
    for rule, ints in routes:
        # An anonymous visitor of a role's pages is sent to log in first, whatever the id;
        # an id the URL cannot hold matches no route at all.
        guarded = role is None and rule.endpoint.partition(".")[0] in BLUEPRINT_PERMISSIONS
        for value in (*HUGE_IDS, "0"):
            url = url_with(rule, ints, value)
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(url, method=method)
                where = f"{method} {url} as {role or 'anonymous'}"
                if guarded and value == "0":
                    assert response.status_code == 302, where
                    assert response.location.startswith("/account/login"), where
                else:
                    assert response.status_code == 404, f"{where}: {response.status_code}"
                    assert "Page not found" in text(response), where
    assert_unchanged(before, caplog)


def test_broken_text_in_a_url_s_text_arguments_is_404(app, client, world, caplog):
    login(client, world["manager"])
    application = world["under_review"].id
    before = snapshot()
    checked = 0
    for rule in page_rules(app):
        ints = [n for n in rule.arguments if isinstance(rule._converters[n], IntegerConverter)]
        texts = [n for n in rule.arguments if n not in ints]
        for bad in ("%00", "%FF", "%E2%80%AE", "x%1B"):
            for method in sorted(rule.methods & {"GET", "POST"} if texts else ()):
                response = client.open(url_with(rule, ints, str(application), {
                    n: bad for n in texts}), method=method)
                assert response.status_code == 404, f"{method} {rule.rule} with {bad}"
                checked += 1
    assert checked >= 12
    assert_unchanged(before, caplog)


PAGINATED = [("manager", "/manage/applications"), ("manager", "/manage/users"),
             ("manager", "/manage/organisations"), ("evaluator", "/evaluate/")]


@pytest.mark.parametrize(("role", "page"), PAGINATED)
def test_page_numbers_out_of_range_are_400_with_a_message(client, world, role, page, caplog):
    as_user(client, world, role)
    assert client.get(page + "?page=1").status_code == 200
    before = snapshot()
    for number in ("99999999999999999999", "2147483648", "1000001", "0", "-1", "x", "١"):
        response = client.get(f"{page}?page={number}")
        assert_refused(response, 400, "\u201cpage\u201d must be a page number from 1 to",
                       before=before, caplog=caplog)


# --- control characters ----------------------------------------------------------------

# Where a person types text: (role, page, form action or None, field, valid values).
TEXT_FORMS = {
    "registration name": (None, "/account/register", None, "name", {
        "name": "Ada Lovelace", "email": "ada@example.org", "password": PASSWORD,
        "confirm": PASSWORD, "privacy_notice": "y"}),
    "company legal name": ("newcomer", "/apply/profile", None, "legal_name", {
        "legal_name": "Analytical Engines B.V.", "registry_number": "NL123456789",
        "country": "NL", "region": "Utrecht"}),
    "application title": ("applicant", "/apply/applications/{draft}/edit", None, "title", {}),
    "application summary": ("applicant", "/apply/applications/{draft}/edit", None,
                            "summary", {}),
    "cost line": ("applicant", "/apply/applications/{draft}/edit", None,
                  "cost_lines-0-description", {}),
    "review comment": ("evaluator", "/evaluate/applications/{under_review}",
                       "/evaluate/applications/{under_review}/review", "comment", {}),
    "call title": ("manager", "/manage/calls/{call}/edit", None, "title", {}),
    "provider name": ("manager", "/manage/providers/{provider}/edit", None, "name", {}),
    "manager comment": ("manager", "/manage/applications/{under_review}",
                        "/manage/applications/{under_review}/actions/reject",
                        "reject-comment", {}),
}


def fill(world, case: str) -> tuple[str, str, dict[str, str]]:
    """Log in for ``case``; (url, field, values of its form that would be saved)."""
    role, page, action, field, values = TEXT_FORMS[case]
    ids = Ids(world)
    return role, page.format_map(ids), action and action.format_map(ids), field, values


def prepared(client, world, case: str) -> tuple[str, str, dict[str, str]]:
    role, page, action, field, values = fill(world, case)
    if role:
        login(client, world[role])
    url, data = form_on(client, page, action)
    data.update(values)
    if case == "review comment":
        data.update({f"score_{c.id}": "4" for c in world["under_review"].call_voucher_type
                     .criteria}, comment="Sound plan.", recommendation="award")
    if case == "manager comment":
        data[field] = "Outside the call's scope."
    return url, field, data


@pytest.mark.parametrize("case", TEXT_FORMS)
def test_control_characters_in_a_text_field_are_refused_naming_the_field(client, world,
                                                                        case, caplog):
    url, field, data = prepared(client, world, case)
    before = snapshot()
    for bad in ("\x00", "\x1b[31m", "\x7f", "\x85", "\x08"):
        response = client.post(url, data={**data, field: data[field] + bad + "x"})
        assert_refused(response, 400, f"\u201c{field}\u201d contains a control character",
                       "nothing was saved", before=before, caplog=caplog)
    # The same form without the character is saved: the refusal above was for the character.
    client.post(url, data={**data, field: data[field] + "x"})
    assert snapshot() != before


def test_control_characters_are_refused_before_the_csrf_check(app, world, monkeypatch,
                                                              caplog):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client = app.test_client()
    login_with_token(client, world["applicant"])
    url = f"/apply/applications/{world['draft'].id}/edit"
    _, data = form_on(client, url)
    assert data.get("csrf_token")
    before = snapshot()
    for token in (data["csrf_token"], "forged", None):
        sent = {**data, "title": "Bench\x00tests", "csrf_token": token}
        if token is None:
            del sent["csrf_token"]
        response = client.post(url, data=sent)
        assert_refused(response, 400, "\u201ctitle\u201d contains a control character (U+0000)",
                       before=before, caplog=caplog)
    response = client.post(url, data=urlencode({**data, "title": "%FF"}).replace("%25FF", "%FF"),
                           content_type=URLENCODED)
    assert_refused(response, 400, "\u201ctitle\u201d is not valid UTF-8",
                   before=before, caplog=caplog)
    response = client.post(url, data=urlencode(data).encode() + b"&title=\xff",
                           content_type=URLENCODED)
    assert_refused(response, 400, "The form is not valid UTF-8", before=before, caplog=caplog)
    body, content_type = multipart(data, {"title": b"\xff"})
    response = client.post(url, data=body, content_type=content_type)
    assert_refused(response, 400, "\u201ctitle\u201d is not valid UTF-8", before=before,
                   caplog=caplog)
    assert csrf_token(client, url)  # still logged in, the form still works


# --- invalid UTF-8 ---------------------------------------------------------------------


def multipart(fields: dict[str, str], raw: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = "----bad-input"
    parts = [(k, v.encode()) for k, v in fields.items() if k not in raw] + list(raw.items())
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode()
        + v + b"\r\n" for k, v in parts)
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("case", ["application title", "provider name", "registration name"])
def test_invalid_utf8_is_refused_and_not_stored_as_text(client, world, case, caplog):
    url, field, data = prepared(client, world, case)
    before = snapshot()
    escaped = urlencode({k: v for k, v in data.items() if k != field})
    for body in (f"{escaped}&{field}=Caf%E9", f"{escaped}&{field}=%FF%FE%00",
                 f"{escaped}&{field}=%C3"):
        response = client.post(url, data=body, content_type=URLENCODED)
        assert_refused(response, 400, f"\u201c{field}\u201d is not valid UTF-8",
                       before=before, caplog=caplog)
    response = client.post(url, data=f"{escaped}&{field}=".encode() + b"Caf\xe9",
                           content_type=URLENCODED)
    assert_refused(response, 400, "The form is not valid UTF-8", before=before, caplog=caplog)
    body, content_type = multipart(data, {field: b"Caf\xe9 \xff"})
    response = client.post(url, data=body, content_type=content_type)
    assert_refused(response, 400, f"\u201c{field}\u201d is not valid UTF-8",
                   before=before, caplog=caplog)
    # A percent sign typed on purpose is text like any other.
    client.post(url, data={**data, field: data[field] + " 100%FF"})
    assert snapshot() != before


def test_invalid_utf8_in_a_query_string_is_refused(client, world, caplog):
    login(client, world["manager"])
    before = snapshot()
    for query in ("q=%FF", "q=Caf%E9", "status=%C3%28", "%FF=1"):
        response = client.get(f"/manage/applications?{query}")
        assert_refused(response, 400, "is not valid UTF-8", before=before, caplog=caplog)
    assert client.get("/manage/applications?q=Caf%C3%A9").status_code == 200


# --- invisible and direction-changing characters ---------------------------------------

INVISIBLE = ("\u200b", "\u202e", "\u2066", "\ufeff", "\u00ad")
NAME_CASES = ["registration name", "company legal name", "application title", "call title",
              "provider name"]


@pytest.mark.parametrize("case", NAME_CASES)
def test_invisible_and_bidi_characters_in_names_and_titles_are_refused(client, world, case,
                                                                       caplog):
    url, field, data = prepared(client, world, case)
    before = snapshot()
    for bad in INVISIBLE:
        response = client.post(url, data={**data, field: "Ev" + bad + "il"})
        assert_refused(response, 422, "invisible or direction-changing character",
                       f"U+{ord(bad):04X}", before=before, caplog=caplog)
    client.post(url, data={**data, field: "Evil"})
    assert snapshot() != before


# --- an oversized text form --------------------------------------------------------------


@pytest.mark.parametrize("case", ["application summary", "call title", "registration name"])
def test_an_oversized_text_form_says_the_form_is_too_large(app, client, world, case,
                                                           monkeypatch, caplog):
    url, field, data = prepared(client, world, case)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    before = snapshot()
    response = client.post(url, data={**data, field: "x" * 8192})
    assert_refused(response, 413, "The form is too large", before=before, caplog=caplog)
    assert "file" not in text(response).partition("<main")[2].lower()
