"""The manager's call set-up pages: programmes, calls, per-type budgets and criteria."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from tests.helpers import login
from vouchers.extensions import db
from vouchers.models import VOUCHER_TYPES, Call, CallVoucherType, Criterion, Programme


class _FormFields(HTMLParser):
    """What a browser would submit from the page's main form (no button pressed)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") != "submit":
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and ("selected" in a
                                                   or self._select not in self.fields):
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data.lstrip("\r\n")


def form_fields(html: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(html)
    return parser.fields


def page(response) -> str:
    return response.get_data(as_text=True)


def type_prefix(voucher_type: str) -> str:
    return f"types-{VOUCHER_TYPES.index(voucher_type)}-"


def new_call_form(client, programme, *, offered=("travel",), **changes) -> dict[str, str]:
    data = form_fields(page(client.get(f"/manage/calls/new?programme={programme.id}")))
    data.update(code="HLS2", title="Cross-border vouchers, call 2",
                opens_at="2027-03-01T09:00", closes_at="2027-05-31T17:00")
    for vt in VOUCHER_TYPES:
        p = type_prefix(vt)
        if vt not in offered:
            data.pop(p + "offered", None)
            continue
        data.update({p + "quota": "12", p + "max_amount": "5000", p + "funding_rate": "75",
                     p + "envelope": "60000", p + "score_scale": "5",
                     p + "criteria-0-name": "Relevance", p + "criteria-0-weight": "2",
                     p + "criteria-1-name": "Partnering plan", p + "criteria-1-weight": "1"})
    data.update(changes)
    return data


def call_count() -> int:
    return db.session.scalar(select(func.count(Call.id)))


@pytest.fixture
def manager(make, client):
    user = make.manager()
    login(client, user)
    return user


@pytest.fixture
def programme(make):
    # Room in the budget for another call beside the factory's one.
    programme = make.call(code="OLD1").programme
    programme.total_budget = Decimal("5000000")
    db.session.commit()
    return programme


def test_the_calls_page_lists_calls_and_programmes(client, make, manager):
    call = make.call(code="HLS1")
    html = page(client.get("/manage/calls"))
    assert "HLS1 · " + call.title in html and call.programme.name in html
    assert "Open" in html
    assert f'href="/manage/calls/{call.id}/edit"' in html
    assert 'href="/manage/calls"' in html and ">Calls<" in html  # the manager's menu
    assert ">Service providers<" in html


def test_a_manager_creates_a_call_entering_times_in_the_programme_zone(client, manager,
                                                                       programme):
    data = new_call_form(client, programme, offered=("travel", "impact"))

    response = client.post("/manage/calls/new", data=data)

    assert response.status_code == 303
    call = db.session.scalar(select(Call).where(Call.code == "HLS2"))
    assert response.headers["Location"] == f"/manage/calls/{call.id}/edit"
    assert call.programme_id == programme.id
    # Brussels is UTC+1 in March and UTC+2 in May.
    assert call.opens_at == datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert call.closes_at == datetime(2027, 5, 31, 15, 0, tzinfo=UTC)
    assert [t.voucher_type for t in call.voucher_types] == ["travel", "impact"]
    travel = call.voucher_type("travel")
    assert (travel.quota, travel.max_amount, travel.funding_rate, travel.envelope) == (
        12, Decimal("5000.00"), Decimal("0.7500"), Decimal("60000.00"))
    assert [(c.name, c.weight) for c in travel.criteria] == [
        ("Relevance", Decimal("2.00")), ("Partnering plan", Decimal("1.00"))]
    edit = page(client.get(response.headers["Location"]))
    assert "Call HLS2 created." in edit
    assert 'value="2027-03-01T09:00"' in edit  # shown back in the programme's time zone


@pytest.mark.parametrize(("field", "value", "message"), [
    ("types-0-quota", "-1", "Between 0 and 100,000."),
    ("types-0-max_amount", "1,000", "with a dot for cents"),
    ("types-0-max_amount", "0", "Must be more than zero."),
    ("types-0-funding_rate", "0", "Must be more than zero."),
    ("types-0-funding_rate", "101", "At most 100%."),
    ("types-0-envelope", "-5", "The amount cannot be negative."),
    ("types-0-criteria-0-weight", "0", "Must be more than zero."),
    ("types-0-criteria-0-weight", "", "Give a weight."),
    ("closes_at", "2027-02-01T09:00", "The call must close after it opens."),
    ("code", "HLS 2", "Letters, digits, dashes and underscores only."),
])
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_created(client, manager, programme,
                                                                     field, value, message):
    before = call_count()
    response = client.post("/manage/calls/new",
                           data=new_call_form(client, programme, **{field: value}))

    assert response.status_code == 400
    html = page(response)
    errors = html.split(f'id="{field}-errors"')[1].split("</ul>")[0]
    assert message in errors
    assert 'aria-invalid="true"' in html
    assert call_count() == before


def test_every_offered_type_needs_a_criterion_and_some_type_must_be_offered(client, manager,
                                                                            programme):
    p = type_prefix("travel")
    data = new_call_form(client, programme, **{p + "criteria-0-name": "",
                                                p + "criteria-0-weight": "",
                                                p + "criteria-1-name": "",
                                                p + "criteria-1-weight": ""})
    response = client.post("/manage/calls/new", data=data)
    assert response.status_code == 400
    assert "Give at least one scoring criterion." in page(response)
    none_offered = new_call_form(client, programme, offered=())
    response = client.post("/manage/calls/new", data=none_offered)
    assert response.status_code == 400
    assert "Offer at least one voucher type." in page(response)
    assert call_count() == 1


def test_a_taken_code_is_explained_and_nothing_is_created(client, manager, programme):
    response = client.post("/manage/calls/new", data=new_call_form(client, programme,
                                                                  code="old1"))
    assert response.status_code == 422
    assert "Another call already uses the code OLD1." in page(response)
    assert call_count() == 1


def test_criterion_rows_are_added_without_javascript_and_nothing_is_saved(client, manager,
                                                                         programme):
    data = new_call_form(client, programme)
    p = type_prefix("travel")
    rows_before = sum(1 for k in data if k.startswith(p + "criteria-") and k.endswith("-name"))

    response = client.post("/manage/calls/new", data={**data, "add_criterion": "travel"})

    assert response.status_code == 200
    html = page(response)
    fields = form_fields(html)
    rows_after = sum(1 for k in fields if k.startswith(p + "criteria-") and k.endswith("-name"))
    assert rows_after == rows_before + 1
    assert fields[p + "criteria-0-name"] == "Relevance"  # what was typed is kept
    assert 'class="errors"' not in html
    assert call_count() == 1


def test_editing_a_call_renames_reweights_removes_and_adds_criteria(client, make, manager):
    call = make.call()
    travel = call.voucher_type("travel")
    first, second = travel.criteria
    first_id, second_id = first.id, second.id
    data = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    p = type_prefix("travel")
    assert data[p + "criteria-0-criterion_id"] == str(first.id)
    data.update({p + "criteria-0-name": "Event relevance", p + "criteria-0-weight": "3",
                 p + "criteria-1-remove": "y",
                 p + "criteria-2-name": "Follow-up plan", p + "criteria-2-weight": "1.5",
                 p + "quota": "14", p + "funding_rate": "80"})

    response = client.post(f"/manage/calls/{call.id}/edit", data=data)

    assert response.status_code == 303
    db.session.expire_all()
    travel = db.session.get(CallVoucherType, travel.id)
    assert [(c.name, c.weight) for c in travel.criteria] == [
        ("Event relevance", Decimal("3.00")), ("Follow-up plan", Decimal("1.50"))]
    assert travel.criteria[0].id == first_id
    assert db.session.get(Criterion, second_id) is None
    assert travel.quota == 14 and travel.funding_rate == Decimal("0.8000")
    assert "Call " + call.code + " saved." in page(client.get(response.headers["Location"]))


def test_dropping_a_voucher_type_from_a_call(client, make, manager):
    call = make.call()
    data = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    del data[type_prefix("impact") + "offered"]

    assert client.post(f"/manage/calls/{call.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert db.session.get(Call, call.id).voucher_type("impact") is None


def test_an_edit_below_what_is_awarded_shows_why_and_changes_nothing(client, make, manager):
    call = make.call()
    cvt = call.voucher_type("market_validation")
    make.application("awarded", cvt, amount="40000", manager=manager)
    data = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    p = type_prefix("market_validation")
    data.update({p + "envelope": "30000", p + "quota": "0", "title": "Renamed"})

    response = client.post(f"/manage/calls/{call.id}/edit", data=data)

    assert response.status_code == 422
    html = page(response)
    assert "€40,000.00 is already committed to awarded vouchers" in html
    assert "1 vouchers are already awarded; the quota cannot be lower than 1." in html
    assert "Awarded so far: 1 vouchers, €40,000.00" in html
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.title != "Renamed"
    assert call.voucher_type("market_validation").envelope == Decimal("360000.00")


def test_without_a_programme_the_manager_creates_one_first(client, manager):
    response = client.get("/manage/calls/new")
    assert response.headers["Location"] == "/manage/programmes/new"

    bad = client.post("/manage/programmes/new", data={
        "name": "Health vouchers", "funder": "Interreg NWE", "total_budget": "1240000",
        "starts_on": "2027-01-01", "ends_on": "2026-12-31"})
    assert bad.status_code == 400
    assert "The programme must end after it starts." in page(bad)

    response = client.post("/manage/programmes/new", data={
        "name": "Health vouchers", "funder": "Interreg NWE", "total_budget": "1240000",
        "starts_on": "2027-01-01", "ends_on": "2029-12-31"})
    assert response.status_code == 303
    programme = db.session.scalar(select(Programme))
    assert programme.total_budget == Decimal("1240000.00")
    assert response.headers["Location"] == f"/manage/calls/new?programme={programme.id}"
    html = page(client.get(response.headers["Location"]))
    assert f'<option selected value="{programme.id}">Health vouchers</option>' in html


def test_an_unknown_call_is_404(client, manager):
    assert client.get("/manage/calls/999999/edit").status_code == 404


@pytest.mark.parametrize("role", ["applicant", "evaluator"])
def test_other_roles_do_not_reach_the_call_set_up(client, make, role):
    call = make.call()
    login(client, make.applicant() if role == "applicant" else make.evaluator())
    assert client.get("/manage/calls").status_code == 404
    for url in ("/manage/calls/new", f"/manage/calls/{call.id}/edit", "/manage/programmes/new"):
        assert client.get(url).status_code == 404
        assert client.post(url, data={"code": "X"}).status_code == 404
    assert call_count() == 1


def test_posts_without_a_csrf_token_are_refused(app, client, manager, programme, monkeypatch):
    data = new_call_form(client, programme)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    data.pop("csrf_token", None)
    assert client.post("/manage/calls/new", data=data).status_code == 400
    assert client.post("/manage/programmes/new", data={"name": "X"}).status_code == 400
    assert call_count() == 1


def field_errors(html: str, field: str) -> str:
    return html.split(f'id="{field}-errors"')[1].split("</ul>")[0]


# Europe/Brussels, the default PROGRAMME_TIMEZONE: the clocks go forward at 02:00 on
# 28 March 2027 (02:00-02:59 does not exist) and back at 03:00 on 31 October 2027
# (02:00-02:59 happens twice, first at UTC+2, then at UTC+1).
@pytest.mark.parametrize(("field", "typed", "message"), [
    ("closes_at", "2027-03-28T02:30",
     "02:30 does not exist on 28 March 2027 in Europe/Brussels: the clocks go forward that "
     "night. It could mean 00:30 UTC or 01:30 UTC"),
    ("closes_at", "2027-10-31T02:30",
     "02:30 happens twice on 31 October 2027 in Europe/Brussels, as the clocks go back: at "
     "00:30 UTC or 01:30 UTC."),
    ("opens_at", "2027-03-28T02:00", "02:00 does not exist on 28 March 2027"),
    ("opens_at", "2027-10-31T02:59", "02:59 happens twice on 31 October 2027"),
])
def test_a_time_the_clock_change_skips_or_repeats_is_refused_with_its_utc_instants(
        client, manager, programme, field, typed, message):
    window = {"opens_at": "2027-03-01T09:00", "closes_at": "2027-11-30T17:00"}
    data = new_call_form(client, programme, **{**window, field: typed})
    before = call_count()

    response = client.post("/manage/calls/new", data=data)

    assert response.status_code == 400
    errors = field_errors(page(response), field)
    assert message in errors
    assert call_count() == before


def test_times_beside_the_clock_change_mean_exactly_one_instant(client, manager, programme):
    data = new_call_form(client, programme, opens_at="2027-03-28T03:00",
                         closes_at="2027-10-31T03:00")

    assert client.post("/manage/calls/new", data=data).status_code == 303
    call = db.session.scalar(select(Call).where(Call.code == "HLS2"))
    assert call.opens_at == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # UTC+2 from 03:00
    assert call.closes_at == datetime(2027, 10, 31, 2, 0, tzinfo=UTC)  # UTC+1 again


def test_the_clock_change_of_another_programme_zone(app, client, manager, programme,
                                                    monkeypatch):
    monkeypatch.setitem(app.config, "PROGRAMME_TIMEZONE", "America/New_York")
    data = new_call_form(client, programme, closes_at="2027-11-07T01:30")

    response = client.post("/manage/calls/new", data=data)

    assert response.status_code == 400
    assert ("01:30 happens twice on 7 November 2027 in America/New_York, as the clocks go "
            "back: at 05:30 UTC or 06:30 UTC.") in field_errors(page(response), "closes_at")
    assert call_count() == 1


def test_a_funding_rate_that_rounds_to_zero_has_its_own_message(client, manager, programme):
    data = new_call_form(client, programme, **{type_prefix("travel") + "funding_rate": "0.004"})

    response = client.post("/manage/calls/new", data=data)

    # The form takes two decimals of a percent, what the rate column holds exactly, so a
    # rate that would round (to zero or not) is refused at the field, never rounded; the
    # service says "rounds to 0%" to a caller that bypasses the form (see
    # test_call_setup_service).
    assert response.status_code == 400
    html = page(response)
    assert "Give a number such as 75 or 62.5, with at most 2 decimals." in html
    assert "already uses the code" not in html
    assert call_count() == 1


@pytest.mark.parametrize(("field", "message"), [
    ("title", "The call&#39;s title contains an invisible or direction-changing character "
              "(a zero-width space, U+200B)"),
    (type_prefix("travel") + "criteria-0-name",
     "Travel: the name of a criterion contains an invisible or direction-changing character "
     "(a text-direction control, U+202E)"),
])
def test_invisible_characters_in_titles_and_criteria_are_refused(client, manager, programme,
                                                                 field, message):
    typed = "Call\u200b 2" if field == "title" else "Relevance \u202etxt.exe"
    data = new_call_form(client, programme, **{field: typed})

    response = client.post("/manage/calls/new", data=data)

    assert response.status_code == 422
    assert message in page(response)
    assert call_count() == 1


def test_the_calls_page_says_open_upcoming_and_closed(client, make, manager):
    make.call(code="OPEN1")
    upcoming = make.call(code="SOON1")
    closed = make.call(code="PAST1")
    now = datetime.now(UTC)
    upcoming.opens_at, upcoming.closes_at = now + timedelta(days=10), now + timedelta(days=40)
    closed.opens_at, closed.closes_at = now - timedelta(days=40), now - timedelta(days=10)
    db.session.commit()

    html = page(client.get("/manage/calls"))

    def badge(code):
        return html.split(f"{code} · ")[1].split('<span class="badge">')[1].split("<")[0]

    assert [badge(c) for c in ("OPEN1", "SOON1", "PAST1")] == ["Open", "Upcoming", "Closed"]


@pytest.mark.parametrize(("field", "typed"), [("funding_rate", "7,5"),
                                              ("criteria-0-weight", "abc")])
def test_a_number_that_does_not_parse_gets_one_message(client, manager, programme, field,
                                                       typed):
    data = new_call_form(client, programme, **{type_prefix("travel") + field: typed})
    response = client.post("/manage/calls/new", data=data)
    assert response.status_code == 400
    html = page(response)
    assert "Give a number such as 75 or 62.5" in html
    # No range check on a value that is not a number.
    assert "At most 100%" not in html and "Number must be" not in html
