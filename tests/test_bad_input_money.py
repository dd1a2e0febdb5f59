"""Money typed by a person: only digits, an optional dot and at most two decimals, never
rounded; and the two call settings whose bad values used to get someone else's message.

The shared world and helpers are those of test_bad_input.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import login, snapshot
from tests.test_bad_input import Ids, World, assert_refused, form_on, text
from vouchers.clock import today
from vouchers.models import VOUCHER_TYPES
from vouchers.money import MAX_MONEY, parse_amount
from vouchers.services import applications, payments, transitions
from vouchers.services.errors import InvalidInput

# Each looks like an amount to someone, and Decimal() or a float would read most of them.
NOT_AMOUNTS = {
    "1e3": "is not an amount", "1_000": "is not an amount",
    "1000.005": "more than two decimals", "\uff11\uff10\uff10\uff10": "is not an amount",
    "\u0661\u0660\u0660\u0660": "is not an amount", "NaN": "is not an amount",
    "Infinity": "is not an amount", "-5": "cannot be negative",
    "1,000": "with a dot for cents", "12.5.0": "is not an amount", "0x10": "is not an amount",
    "\u20ac100": "is not an amount", "1 000": "is not an amount",
}


@pytest.fixture(name="world")
def _world(app, make):
    return World(make)


# --- money.parse_amount ------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "says"), NOT_AMOUNTS.items())
def test_parse_amount_refuses_what_is_not_plainly_an_amount(typed, says):
    with pytest.raises(ValueError, match=says):
        parse_amount(typed)


@pytest.mark.parametrize(("typed", "amount"), [
    ("2500", "2500.00"), ("2500.5", "2500.50"), (" 2500.50 ", "2500.50"), ("0", "0.00"),
    ("0.01", "0.01"), ("007", "7.00"), (str(MAX_MONEY), str(MAX_MONEY)),
    (Decimal("12.30"), "12.30"), (12, "12.00"),
])
def test_parse_amount_reads_plain_amounts_exactly(typed, amount):
    parsed = parse_amount(typed)
    assert parsed == Decimal(amount) and str(parsed) == amount


def test_parse_amount_takes_thousands_separators_only_when_the_form_says_so():
    assert parse_amount("12,500.00", thousands=True) == Decimal("12500.00")
    assert parse_amount("1,234,567", thousands=True) == Decimal("1234567.00")
    for typed in ("12,500.00", "1,000"):
        with pytest.raises(ValueError, match="with a dot for cents"):
            parse_amount(typed)
    for typed in ("1,00", "12,5", "1,0000", ",100", "1,000.005"):
        with pytest.raises(ValueError):
            parse_amount(typed, thousands=True)


@pytest.mark.parametrize("value", [Decimal("1000.005"), Decimal("NaN"), Decimal("Infinity"),
                                   Decimal("1E+12"), Decimal("1E+30"), True, None, "", "  "])
def test_parse_amount_refuses_decimals_it_would_have_to_round_and_non_amounts(value):
    with pytest.raises(ValueError):
        parse_amount(value)


def test_parse_amount_refuses_more_than_a_column_holds():
    with pytest.raises(ValueError, match="largest amount"):
        parse_amount("10000000000.00")


# --- every money field of the forms --------------------------------------------------------

TRAVEL = f"types-{VOUCHER_TYPES.index('travel')}-"
# (role, page, form action or None, field, values the form needs besides). A plain
# "1000" is then saved, except where noted: the call's travel type has 5,000 awarded.
MONEY_FORMS = {
    "requested amount": ("applicant", "/apply/applications/{draft}/edit", None,
                         "requested_amount", {}),
    "cost line amount": ("applicant", "/apply/applications/{draft}/edit", None,
                         "cost_lines-0-amount", {}),
    "actual costs": ("applicant", "/apply/applications/{report}/report", None,
                     "actual_costs", {}),
    "de minimis declared": ("applicant", "/apply/profile", "/apply/profile/aid", "amount", {
        "granting_body": "Regional development fund", "granted_on": "2025-01-10"}),
    "award amount": ("manager", "/manage/applications/{under_review}",
                     "/manage/applications/{under_review}/actions/award", "award-amount", {}),
    "payment amount": ("manager", "/manage/applications/{completed}",
                       "/manage/applications/{completed}/actions/record_payment",
                       "record_payment-amount", {"record_payment-reference": "PAY-1"}),
    "call maximum": ("manager", "/manage/calls/{call}/edit", None, TRAVEL + "max_amount", {}),
    "call envelope": ("manager", "/manage/calls/{call}/edit", None, TRAVEL + "envelope", {}),
    "programme budget": ("manager", "/manage/programmes/new", None, "total_budget", {
        "name": "Second programme", "funder": "Interreg", "starts_on": "2027-01-01",
        "ends_on": "2029-12-31"}),
}


@pytest.mark.parametrize("case", MONEY_FORMS)
def test_every_money_field_refuses_what_is_not_plainly_an_amount(client, world, case,
                                                                 caplog):
    role, page, action, field, values = MONEY_FORMS[case]
    ids = Ids(world)
    login(client, world[role])
    url, data = form_on(client, page.format_map(ids), action and action.format_map(ids))
    data.update(values)
    data.setdefault("record_payment-paid_on", today().isoformat())
    before = snapshot()
    for typed, says in NOT_AMOUNTS.items():
        response = client.post(url, data={**data, field: typed})
        assert_refused(response, 400, says, before=before, caplog=caplog)
    # The form itself is fine: with a plain amount it is saved.
    client.post(url, data={**data, field: "60000.50" if case.startswith("call") else "1000"})
    assert snapshot() != before


# --- and in the services, for the CLI and a future API ---------------------------------------

SERVICE_VALUES = [*NOT_AMOUNTS, Decimal("1000.005"), Decimal("NaN"), Decimal("-Infinity")]


def _award(world, value):
    transitions.award(world["under_review"], world["manager"], value)


def _payment(world, value):
    payments.record_payment(world["completed"], world["manager"], value, paid_on=today(),
                             reference="PAY-1")


def _requested(world, value):
    applications.update_draft(world["draft"], world["applicant"], {"requested_amount": value})


def _cost_line(world, value):
    applications.update_draft(world["draft"], world["applicant"], {},
                              cost_lines=[{"description": "Study", "amount": value}])


@pytest.mark.parametrize("call", [_award, _payment, _requested, _cost_line],
                         ids=lambda f: f.__name__.strip("_"))
def test_services_refuse_amounts_they_would_have_to_guess_or_round(world, call, caplog):
    for key in ("manager", "applicant", "draft", "under_review", "completed"):
        world[key]  # noqa: B018 - built now, so the snapshot holds it
    before = snapshot()
    for value in SERVICE_VALUES:
        with pytest.raises(InvalidInput) as refused:
            call(world, value)
        assert str(value) in str(refused.value) or "negative" in str(refused.value)
        assert snapshot() == before, f"{call.__name__}({value!r}) changed the database"
    call(world, "1000.00")
    assert snapshot() != before


# --- call settings: a rate that rounds to nothing, a time that does not exist -------------


def new_call(client, world, **changes) -> tuple[str, dict[str, str]]:
    login(client, world["manager"])
    url, data = form_on(client, f"/manage/calls/new?programme={world['call'].programme.id}",
                        "/manage/calls/new")
    data.update(code="NEW2", title="Second call", opens_at="2027-03-01T09:00",
                closes_at="2027-05-31T17:00")
    for vt in VOUCHER_TYPES:  # offer travel only
        data.pop(f"types-{VOUCHER_TYPES.index(vt)}-offered", None)
    p = TRAVEL
    data.update({p + "offered": "y", p + "quota": "2", p + "max_amount": "5000",
                 p + "funding_rate": "75", p + "envelope": "10000", p + "score_scale": "5",
                 p + "criteria-0-name": "Relevance", p + "criteria-0-weight": "1"})
    data.update({p + k: v for k, v in changes.items()})
    return url, data


def test_a_funding_rate_that_rounds_to_zero_has_its_own_message(client, world, caplog):
    url, data = new_call(client, world, funding_rate="0.001")
    before = snapshot()
    response = client.post(url, data=data)
    assert "already uses the code" not in text(response)
    # The form takes the two decimals of a percent the rate column holds: nothing rounds.
    assert_refused(response, 400, "with at most 2 decimals", before=before, caplog=caplog)
    client.post(url, data={**data, TRAVEL + "funding_rate": "0.01"})
    assert snapshot() != before


@pytest.mark.parametrize(("closes_at", "instants"), [
    # Europe/Brussels: 02:00-03:00 does not exist on 28 March 2027 ...
    ("2027-03-28T02:30", ["00:30 UTC", "01:30 UTC"]),
    # ... and happens twice on 31 October 2027.
    ("2027-10-31T02:30", ["00:30 UTC", "01:30 UTC"]),
])
def test_a_close_time_in_a_daylight_saving_change_is_not_taken_silently(client, world,
                                                                        closes_at, instants,
                                                                        caplog):
    url, data = new_call(client, world)
    data["closes_at"] = closes_at
    assert client.application.config["PROGRAMME_TIMEZONE"] == "Europe/Brussels"
    before = snapshot()
    response = client.post(url, data=data)
    assert_refused(response, 400, *instants, before=before, caplog=caplog)
    client.post(url, data={**data, "closes_at": closes_at.replace("02:30", "03:30")})
    assert snapshot() != before


# --- other numbers of the call form: within what the columns hold, and numbers at all -------

@pytest.mark.parametrize(("field", "typed"), [
    ("quota", "99999999999999999999"),
    ("quota", "2147483648"),
    ("score_scale", "99999999999999999999"),
    ("funding_rate", "NaN"),
    ("funding_rate", "Infinity"),
    ("criteria-0-weight", "NaN"),
    ("criteria-0-weight", "1e30"),
])
def test_call_numbers_beyond_a_column_or_not_numbers_are_400_next_to_the_field(
        client, world, field, typed, caplog):
    login(client, world["manager"])
    url, data = form_on(client, f"/manage/calls/{world['call'].id}/edit")
    before = snapshot()
    response = client.post(url, data={**data, TRAVEL + field: typed})
    assert_refused(response, 400, f'id="{TRAVEL}{field}-errors"', before=before,
                   caplog=caplog)
