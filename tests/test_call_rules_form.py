"""The call's rules on the manager's call form and on the pages applicants read.

Every setting round-trips through the form; a new call starts with the programme's
defaults; each bad input is refused next to its field and changes nothing; the call's
page says the rules in plain words.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.helpers import login, snapshot
from tests.test_manager_calls import field_errors, form_fields, page, type_prefix
from vouchers.clock import local_date
from vouchers.extensions import db
from vouchers.models import Call, Programme
from vouchers.services import call_rules, call_setup, eligibility
from vouchers.services.call_specs import CallSpec, CriterionSpec, VoucherTypeSpec
from vouchers.services.errors import InvalidInput

TRAVEL, MARKET = type_prefix("travel"), type_prefix("market_validation")


def old_post(code: str, title: str, criterion_id: int) -> dict[str, str]:
    """Travel vouchers as a script posted them before the rules existed
    (tests/matrix_cases.call_fields)."""
    return {"code": code, "title": title, "opens_at": "2027-03-01T09:00",
            "closes_at": "2027-05-31T17:00", TRAVEL + "offered": "y", TRAVEL + "quota": "12",
            TRAVEL + "max_amount": "5000", TRAVEL + "funding_rate": "100",
            TRAVEL + "envelope": "60000", TRAVEL + "score_scale": "5",
            TRAVEL + "criteria-0-name": "Relevance", TRAVEL + "criteria-0-weight": "1",
            TRAVEL + "criteria-0-criterion_id": str(criterion_id)}


@pytest.fixture
def manager(make, client):
    user = make.manager()
    login(client, user)
    return user


@pytest.fixture
def call(make):
    return make.call()


def edit_form(client, call, **changes) -> dict[str, str]:
    data = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    data.update(changes)
    return data


def fresh(call) -> Call:
    db.session.expire_all()
    return db.session.get(Call, call.id)


# --- a new call's defaults -------------------------------------------------------------


def test_a_new_call_starts_with_the_programmes_defaults(client, manager, call):
    programme = call.programme
    programme.total_budget = Decimal("5000000")
    db.session.commit()
    html = page(client.get(f"/manage/calls/new?programme={programme.id}"))
    fields = form_fields(html)

    assert {k for k in fields if k.startswith("sizes-")} == {
        "sizes-micro", "sizes-small", "sizes-medium"}
    assert fields["max_applications_per_type"] == "1"
    assert fields["max_vouchers_per_sme"] == "" and fields["implementation_ends_on"] == ""
    assert fields["support_cap"] == "60000.00"
    assert fields["divergence_percent"] == "30"
    assert "extra_evaluator_on_divergence" not in fields
    assert fields["lead_evaluator_id"] == ""
    assert fields["eligible_regions"] == ""
    # Empty means the programme's partner regions, which the page names.
    assert "North Brabant (NL)" in html and 'placeholder="NL North Brabant' in html
    # Per voucher type, the registry's defaults (vouchers/voucher_types.py).
    assert fields[MARKET + "provider_other_region"] == "y"
    assert TRAVEL + "provider_other_region" not in fields  # travel names no provider
    assert fields[MARKET + "attachments-quote"] == "y"
    assert fields[TRAVEL + "attachments-registration"] == "y"
    assert TRAVEL + "attachments-quote" not in fields
    assert fields[MARKET + "threshold"] == ""

    fields.update(code="HLS9", title="Call nine", opens_at="2027-03-01T09:00",
                  closes_at="2027-05-31T17:00")
    for p in (type_prefix(vt) for vt in ("travel", "market_validation")):
        fields.update({p + "quota": "2", p + "max_amount": "5000", p + "funding_rate": "75",
                       p + "envelope": "10000", p + "criteria-0-name": "Fit",
                       p + "criteria-0-weight": "1"})
    for vt in ("product_validation", "impact"):
        fields.pop(type_prefix(vt) + "offered")
    assert client.post("/manage/calls/new", data=fields).status_code == 303

    new = db.session.scalar(select(Call).where(Call.code == "HLS9"))
    assert new.eligible_regions is None and new.regions == programme.regions
    assert new.allowed_sizes == ["micro", "small", "medium"]
    assert (new.max_applications_per_type, new.max_vouchers_per_sme) == (1, None)
    assert new.support_cap == Decimal("60000.00") and new.implementation_ends_on is None
    assert new.divergence_share == Decimal("0.3000")
    assert not new.extra_evaluator_on_divergence and new.lead_evaluator_id is None
    market, travel = new.voucher_type("market_validation"), new.voucher_type("travel")
    assert market.provider_other_region and market.required_attachments == ["quote"]
    assert not travel.provider_other_region
    assert travel.required_attachments == ["registration"]
    assert market.threshold is None and market.criteria[0].minimum is None


def test_a_post_without_the_rule_fields_keeps_the_defaults_or_the_calls_rules(
        client, manager, make, call):
    """Scripts written before the rules existed post only the older fields."""
    call.max_vouchers_per_sme, call.allowed_sizes = 3, ["small"]
    call.voucher_type("travel").required_attachments = ["cv"]
    db.session.commit()
    criterion = call.voucher_type("travel").criteria[0]
    criterion.minimum = 2
    db.session.commit()
    data = old_post(call.code, "Renamed", criterion.id)
    for vt in ("market_validation", "product_validation", "impact"):
        cvt = call.voucher_type(vt)
        p = type_prefix(vt)
        data.update({p + "offered": "y", p + "quota": str(cvt.quota),
                     p + "max_amount": str(cvt.max_amount), p + "envelope": str(cvt.envelope),
                     p + "funding_rate": f"{(cvt.funding_rate * 100).normalize():f}",
                     p + "score_scale": "5",
                     **{f"{p}criteria-{i}-{k}": v for i, c in enumerate(cvt.criteria)
                        for k, v in (("name", c.name), ("weight", str(c.weight)),
                                     ("criterion_id", str(c.id)))}})
    response = client.post(f"/manage/calls/{call.id}/edit", data=data)
    assert response.status_code == 303

    saved = fresh(call)
    assert saved.title == "Renamed"
    assert (saved.max_vouchers_per_sme, saved.allowed_sizes) == (3, ["small"])
    assert saved.voucher_type("travel").required_attachments == ["cv"]
    assert saved.voucher_type("travel").criteria[0].minimum == 2

    programme = call.programme
    programme.total_budget = Decimal("5000000")
    db.session.commit()
    new = {**old_post("OLD2", "A call from a script", 0), "programme_id": str(programme.id)}
    new[TRAVEL + "criteria-0-criterion_id"] = ""
    assert client.post("/manage/calls/new", data=new).status_code == 303
    created = db.session.scalar(select(Call).where(Call.code == "OLD2"))
    assert created.allowed_sizes == ["micro", "small", "medium"]
    assert (created.max_applications_per_type, created.support_cap) == (1, Decimal("60000.00"))
    assert created.divergence_share == Decimal("0.3000")
    assert created.voucher_type("travel").required_attachments == ["registration"]


# --- every setting round-trips -----------------------------------------------------------


def test_every_rule_round_trips_through_the_form(client, manager, make, call):
    lead = make.evaluator()
    ends = local_date(call.closes_at) + timedelta(days=100)
    data = edit_form(client, call, **{
        "eligible_regions": "es catalonia\n\n  NL   North   Brabant ",
        "sizes-large": "y", "max_applications_per_type": "", "max_vouchers_per_sme": "2",
        "support_cap": "", "implementation_ends_on": ends.isoformat(),
        "divergence_percent": "25.5", "extra_evaluator_on_divergence": "y",
        "lead_evaluator_id": str(lead.id),
        TRAVEL + "attachments-cv": "y", MARKET + "threshold": "3.25",
        MARKET + "criteria-0-minimum": "2", MARKET + "attachments-other": "y",
    })
    for name in ("sizes-small", "sizes-medium", MARKET + "provider_other_region",
                 MARKET + "attachments-quote"):
        data.pop(name, None)

    response = client.post(f"/manage/calls/{call.id}/edit", data=data)

    assert response.status_code == 303, page(response)
    saved = fresh(call)
    assert saved.eligible_regions == [["ES", "catalonia"], ["NL", "North Brabant"]]
    assert saved.allowed_sizes == ["micro", "large"]
    assert (saved.max_applications_per_type, saved.max_vouchers_per_sme) == (None, 2)
    assert saved.support_cap is None and saved.implementation_ends_on == ends
    assert saved.divergence_share == Decimal("0.2550")
    assert saved.extra_evaluator_on_divergence and saved.lead_evaluator_id == lead.id
    market = saved.voucher_type("market_validation")
    assert not market.provider_other_region
    assert market.required_attachments == ["other"]
    assert market.threshold == Decimal("3.25") and market.criteria[0].minimum == 2
    assert saved.voucher_type("travel").required_attachments == ["cv"]

    # Shown back as saved; saving the page again changes nothing.
    shown = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    assert shown["eligible_regions"] == "ES catalonia\nNL North Brabant"
    assert {k for k in shown if k.startswith("sizes-")} == {"sizes-micro", "sizes-large"}
    assert (shown["max_applications_per_type"], shown["max_vouchers_per_sme"]) == ("", "2")
    assert shown["support_cap"] == "" and shown["implementation_ends_on"] == ends.isoformat()
    assert shown["divergence_percent"] == "25.5"
    assert shown["extra_evaluator_on_divergence"] == "y"
    assert shown["lead_evaluator_id"] == str(lead.id)
    assert MARKET + "provider_other_region" not in shown
    assert shown[MARKET + "threshold"] == "3.25" and shown[MARKET + "criteria-0-minimum"] == "2"
    before = snapshot()
    assert client.post(f"/manage/calls/{call.id}/edit", data=shown).status_code == 303
    assert snapshot() == before


def test_a_disabled_lead_evaluator_is_kept_but_cannot_be_chosen_anew(client, manager, make,
                                                                   call):
    lead, other = make.evaluator(), make.evaluator()
    call.lead_evaluator_id = lead.id
    lead.enabled = other.enabled = False
    db.session.commit()
    html = page(client.get(f"/manage/calls/{call.id}/edit"))
    assert f"{lead.name} (account disabled)" in html and other.name not in html
    assert client.post(f"/manage/calls/{call.id}/edit",
                       data=edit_form(client, call)).status_code == 303

    before = snapshot()
    response = client.post(f"/manage/calls/{call.id}/edit",
                           data=edit_form(client, call, lead_evaluator_id=str(other.id)))
    assert response.status_code == 400
    assert "Choose an evaluator from the list." in field_errors(page(response),
                                                                "lead_evaluator_id")
    assert snapshot() == before


# --- bad input ---------------------------------------------------------------------------


def _closes(call) -> date:
    return local_date(call.closes_at)


BAD = [
    ("eligible_regions", "Catalonia", "Line 1: start with the two-letter country code, then "
                                      "the region, as in “ES Catalonia”."),
    ("eligible_regions", "ESP Catalonia", "Line 1: start with the two-letter country code"),
    ("eligible_regions", "ES Catalonia\n\nES", "Line 3: give the region&#39;s name after ES"),
    ("eligible_regions", "ES Catalonia\nes  CATALONIA", "Line 2: ES CATALONIA is listed twice."),
    ("eligible_regions", "ES Catalonia\nZZ Atlantis", "Line 2: ZZ is not a country code"),
    ("eligible_regions", "ES Cata\u200blonia", "The region&#39;s name (line 1) contains an "
                                             "invisible or direction-changing character"),
    ("eligible_regions", "ES " + "x" * 201, "is too long: at most 200 characters"),
    ("max_applications_per_type", "0", "From 1 to 100,000."),
    ("max_applications_per_type", "1.5", "Give a whole number such as 3."),
    ("max_vouchers_per_sme", "0", "From 1 to 100,000."),
    ("max_vouchers_per_sme", "1_000", "Give a whole number such as 3."),
    ("support_cap", "0", "Must be more than zero."),
    ("support_cap", "60,000", "with a dot for cents"),
    ("implementation_ends_on", "31/12/2027", "Not a valid date value."),
    ("implementation_ends_on", lambda call: (_closes(call) - timedelta(days=1)).isoformat(),
     "Not before the call closes"),
    ("implementation_ends_on", "2029-01-01", "Not after the programme ends (31 December 2028)."),
    ("divergence_percent", "0", "From 1 to 100%."),
    ("divergence_percent", "100.5", "From 1 to 100%."),
    ("divergence_percent", "", "Give the share of the scale."),
    ("divergence_percent", "30.125", "at most 2 decimals"),
    ("lead_evaluator_id", "999999", "Choose an evaluator from the list."),
    ("lead_evaluator_id", "abc", "Choose an evaluator from the list."),
    (MARKET + "threshold", "5.01", "At most 5, the highest score."),
    (MARKET + "threshold", "-1", "Give a number such as 75 or 62.5"),
    (MARKET + "threshold", "2.555", "at most 2 decimals"),
    (MARKET + "criteria-0-minimum", "6", "At most 5, the highest score."),
    (MARKET + "criteria-0-minimum", "2.5", "Give a whole number such as 3."),
]


@pytest.mark.parametrize(("field", "typed", "message"), BAD)
def test_bad_input_is_refused_next_to_its_field_and_changes_nothing(client, manager, call,
                                                                    field, typed, message):
    typed = typed(call) if callable(typed) else typed
    data = edit_form(client, call, **{field: typed})
    before = snapshot()

    response = client.post(f"/manage/calls/{call.id}/edit", data=data)

    assert response.status_code == 400
    assert message in field_errors(page(response), field)
    assert snapshot() == before


@pytest.mark.parametrize("group", ["new", "edit"])
def test_some_enterprise_size_must_be_allowed(client, manager, call, group):
    url = (f"/manage/calls/new?programme={call.programme_id}" if group == "new"
           else f"/manage/calls/{call.id}/edit")
    data = {k: v for k, v in form_fields(page(client.get(url))).items()
            if not k.startswith("sizes-")}
    before = snapshot()
    response = client.post(url.partition("?")[0], data=data)
    assert response.status_code == 400
    assert "Allow at least one enterprise size." in field_errors(page(response), "sizes")
    assert snapshot() == before


def _spec(call: Call, **changes) -> CallSpec:
    """A small new call in ``call``'s programme (its budget has room for it)."""
    types = [VoucherTypeSpec(voucher_type="market_validation", quota=6,
                             max_amount=Decimal("60000"), funding_rate=Decimal("0.75"),
                             envelope=Decimal("10"), criteria=[CriterionSpec("Fit", Decimal(1))])]
    return CallSpec(code="SVC1", title="Service call", opens_at=call.opens_at,
                    closes_at=call.closes_at, types=types, **changes)


@pytest.mark.parametrize(("changes", "message"), [
    ({"eligible_regions": []}, "Name at least one eligible region"),
    ({"eligible_regions": [["ES", "Catalonia"], ["es", "catalonia"]]},
     "Region 2: ES catalonia is listed twice."),
    ({"eligible_regions": [["E1", "Catalonia"]]}, "Region 1: start with the two-letter"),
    ({"allowed_sizes": []}, "Allow at least one enterprise size."),
    ({"allowed_sizes": ["tiny"]}, "There is no enterprise size 'tiny'."),
    ({"max_applications_per_type": 0}, "from 1 to 100,000, or left empty"),
    ({"max_vouchers_per_sme": True}, "from 1 to 100,000, or left empty"),
    ({"support_cap": Decimal("0.001")}, "an amount in cents above zero"),
    ({"divergence_share": Decimal("0.001")}, "from 1% to 100% of the scale"),
    ({"implementation_ends_on": date(2029, 1, 1)}, "after the programme ends"),
    ({"lead_evaluator_id": 999999}, "The lead evaluator must be an evaluator"),
])
def test_the_service_refuses_rules_whatever_the_caller(make, call, changes, message):
    manager = make.manager()
    spec = _spec(call, **changes)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        call_setup.create_call(call.programme, spec, manager)
    db.session.rollback()
    assert message in str(refused.value)
    assert snapshot() == before


@pytest.mark.parametrize(("type_changes", "message"), [
    ({"voucher_type": "travel", "provider_other_region": True},
     "Travel vouchers name no service provider"),
    ({"required_attachments": ["selfie"]}, "there is no kind of attachment 'selfie'"),
    ({"threshold": Decimal("5.5")}, "the threshold must be from 0 to 5"),
])
def test_the_service_refuses_voucher_type_rules(make, call, type_changes, message):
    spec = _spec(call)
    for name, value in type_changes.items():
        setattr(spec.types[0], name, value)
    with pytest.raises(InvalidInput) as refused:
        call_setup.create_call(call.programme, spec, make.manager())
    assert message in str(refused.value)


def test_a_criterion_minimum_off_the_scale_is_refused_by_the_service(make, call):
    spec = _spec(call)
    spec.types[0].criteria[0].minimum = 6
    with pytest.raises(InvalidInput, match="minimum score of 'Fit' must be a whole number"):
        call_setup.create_call(call.programme, spec, make.manager())


# --- re-checking eligibility ---------------------------------------------------------------


def test_changing_a_rule_re_checks_the_calls_applications(client, manager, call, monkeypatch):
    refreshed = []
    monkeypatch.setattr(eligibility, "refresh_call", lambda c: refreshed.append(c.id))
    assert client.post(f"/manage/calls/{call.id}/edit",
                       data=edit_form(client, call, title="Only the title")).status_code == 303
    assert refreshed == []
    assert client.post(f"/manage/calls/{call.id}/edit",
                       data=edit_form(client, call, max_vouchers_per_sme="1")).status_code == 303
    assert refreshed == [call.id]


def test_a_submitted_application_is_flagged_once_the_call_excludes_its_region(client, manager,
                                                                             make, call):
    """With services/eligibility itself: the regions of the programme, then the call's."""
    travel = call.voucher_type("travel")
    travel.required_attachments = []
    db.session.commit()
    application = make.application("submitted", travel)
    assert not application.fails_rules  # North Brabant is a partner region

    url = f"/manage/programmes/{call.programme_id}/edit"
    fields = form_fields(page(client.get(url)))
    assert client.post(url, data={**fields, "regions": "ES Catalonia"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(type(application), application.id).fails_rules

    data = edit_form(client, call, eligible_regions="NL North Brabant")
    assert client.post(f"/manage/calls/{call.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert not db.session.get(type(application), application.id).fails_rules


# --- the programme's partner regions -------------------------------------------------------


def test_the_programme_form_sets_and_edits_the_partner_regions(client, manager, call):
    response = client.post("/manage/programmes/new", data={
        "name": "Health vouchers", "funder": "Interreg NWE", "total_budget": "1240000",
        "starts_on": "2027-01-01", "ends_on": "2029-12-31",
        "regions": "BE Wallonia\nFR Hauts-de-France"})
    assert response.status_code == 303
    programme = db.session.scalar(select(Programme).where(Programme.name == "Health vouchers"))
    assert programme.regions == [["BE", "Wallonia"], ["FR", "Hauts-de-France"]]

    url = f"/manage/programmes/{call.programme_id}/edit"
    fields = form_fields(page(client.get(url)))
    assert fields["regions"].splitlines()[0] == "NL North Brabant"
    fields["regions"] = "IE Southern Region\nDE North Rhine-Westphalia"
    assert client.post(url, data=fields).status_code == 303
    db.session.expire_all()
    assert db.session.get(Programme, call.programme_id).regions == [
        ["IE", "Southern Region"], ["DE", "North Rhine-Westphalia"]]
    assert "Southern Region (IE)" in page(client.get("/manage/calls"))


@pytest.mark.parametrize(("field", "typed", "status", "message"), [
    ("regions", "Wallonia", 400, "Line 1: start with the two-letter country code"),
    ("regions", "BE Wallonia\nbe wallonia", 400, "Line 2: BE wallonia is listed twice."),
    ("ends_on", "2026-06-30", 422, "the programme cannot end before that"),
    ("total_budget", "1000", 422, "more than its budget of €1,000.00"),
])
def test_bad_programme_input_is_refused_and_changes_nothing(client, manager, call, field,
                                                            typed, status, message):
    url = f"/manage/programmes/{call.programme_id}/edit"
    fields = {**form_fields(page(client.get(url))), field: typed}
    before = snapshot()
    response = client.post(url, data=fields)
    assert response.status_code == status
    assert message in page(response)
    assert snapshot() == before


# --- the rules in plain words ---------------------------------------------------------------


def _rules_text(call) -> str:
    return " ".join(s for section in call_rules.describe(call) for s in section.sentences)


def test_the_call_page_says_the_rules_in_plain_words(client, make, call):
    market = call.voucher_type("market_validation")
    market.provider_other_region, market.required_attachments = True, ["quote"]
    market.threshold = Decimal("3.5")
    market.criteria[0].minimum = 2
    call.voucher_type("travel").required_attachments = ["registration", "cv"]
    call.max_vouchers_per_sme, call.implementation_ends_on = 2, date(2028, 6, 30)
    call.support_cap = Decimal("60000.00")
    db.session.commit()

    public = page(client.get("/"))
    login(client, make.applicant())
    home = page(client.get("/apply/"))
    for html in (public, home):
        for words in (
            "Companies based in one of these regions: North Brabant (NL), Bavaria (DE), "
            "Catalonia (ES) and Capital Region (DK).",
            "Micro, small and medium-sized enterprises (SMEs) only; large enterprises may "
            "not apply.",
            "take place between the day the application is submitted and 30 June 2028.",
            "At most 1 application per company for each voucher type of this call.",
            "At most 2 vouchers per company over the whole programme",
            "may not exceed €60,000.00 in total.",
            "may not exceed €300,000.00",
            "The service provider must be based in another region than the company.",
            "Attach: the provider&#39;s quote.",
            "Attach: event registration or invitation and CV of the person who will travel",
            "A voucher needs a weighted score of at least 3.5 out of 5.",
            "Least score per criterion (out of 5): Criterion 1: 2.",
            "Market validation vouchers",
        ):
            assert words in html, words
    # The manager's call page shows the same words.
    login(client, make.manager())
    edit = page(client.get(f"/manage/calls/{call.id}/edit"))
    assert "What applicants read" in edit
    assert "The service provider must be based in another region than the company." in edit


def test_the_wording_follows_each_setting(make, call):
    call.eligible_regions, call.allowed_sizes = [["ES", "Catalonia"]], ["micro", "large"]
    call.max_applications_per_type = call.support_cap = None
    call.programme.regions = []
    market = call.voucher_type("market_validation")
    market.provider_other_region, market.required_attachments = False, []
    db.session.commit()
    text = _rules_text(call)
    assert "Companies based in one of these regions: Catalonia (ES)." in text
    assert "Only micro or large enterprises may apply." in text
    assert "No limit on the applications of one company per voucher type." in text
    assert "may not exceed €60,000.00" not in text
    assert "may be based in any region, the company's own included." in text
    assert "No particular document is required." in text
    assert "between the day the application is submitted and 31 December 2028." in text

    call.eligible_regions = None
    call.allowed_sizes = ["micro", "small", "medium", "large"]
    db.session.commit()
    text = _rules_text(call)
    assert "Companies of every region may apply." in text
    assert "Enterprises of every size may apply, large ones included." in text

    assert [s.heading for s in call_rules.describe(call)] == [
        "Who may apply", "Dates", "Limits per company", "Payment",
        *(f"{t.label} vouchers" for t in call.voucher_types)]


# --- the call's money settings ---------------------------------------------------------------


def test_the_advance_share_and_the_zero_report_setting_round_trip_through_the_form(
        client, manager, call):
    fields = edit_form(client, call)
    # A call starts with no advance, and a zero report gives its quota place back.
    assert fields["advance_percent"] == "" and fields["zero_report_returns_quota"] == "y"

    data = edit_form(client, call, advance_percent="50")
    data.pop("zero_report_returns_quota")
    assert client.post(f"/manage/calls/{call.id}/edit", data=data).status_code == 303
    saved = fresh(call)
    assert (saved.advance_share, saved.zero_report_returns_quota) == (Decimal("0.5000"), False)

    shown = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    assert shown["advance_percent"] == "50" and "zero_report_returns_quota" not in shown
    before = snapshot()
    assert client.post(f"/manage/calls/{call.id}/edit", data=shown).status_code == 303
    assert snapshot() == before

    data = edit_form(client, call, advance_percent="33.33", zero_report_returns_quota="y")
    assert client.post(f"/manage/calls/{call.id}/edit", data=data).status_code == 303
    saved = fresh(call)
    assert (saved.advance_share, saved.zero_report_returns_quota) == (Decimal("0.3333"), True)

    data = edit_form(client, call, advance_percent="")
    assert client.post(f"/manage/calls/{call.id}/edit", data=data).status_code == 303
    assert fresh(call).advance_share is None


def test_a_new_call_takes_its_advance_share_from_the_form(client, manager, call):
    programme = call.programme
    programme.total_budget = Decimal("5000000")
    db.session.commit()
    fields = form_fields(page(client.get(f"/manage/calls/new?programme={programme.id}")))
    assert fields["advance_percent"] == "" and fields["zero_report_returns_quota"] == "y"
    fields.update(code="HLS8", title="Call eight", opens_at="2027-03-01T09:00",
                  closes_at="2027-05-31T17:00", advance_percent="40")
    p = type_prefix("travel")
    fields.update({p + "quota": "2", p + "max_amount": "5000", p + "funding_rate": "100",
                   p + "envelope": "10000", p + "criteria-0-name": "Fit",
                   p + "criteria-0-weight": "1"})
    for vt in ("market_validation", "product_validation", "impact"):
        fields.pop(type_prefix(vt) + "offered")
    assert client.post("/manage/calls/new", data=fields).status_code == 303
    new = db.session.scalar(select(Call).where(Call.code == "HLS8"))
    assert (new.advance_share, new.zero_report_returns_quota) == (Decimal("0.4000"), True)


@pytest.mark.parametrize(("typed", "message"), [
    ("0", "From 1 to 99%."),
    ("100", "From 1 to 99%."),
    ("99.5", "From 1 to 99%."),
    ("0.5", "From 1 to 99%."),
    ("50.125", "at most 2 decimals"),
    ("-5", "Give a number such as 75 or 62.5"),
    ("half", "Give a number such as 75 or 62.5"),
    ("50%", "Give a number such as 75 or 62.5"),
])
def test_a_bad_advance_share_is_refused_next_to_its_field_and_changes_nothing(
        client, manager, call, typed, message):
    data = edit_form(client, call, advance_percent=typed)
    before = snapshot()
    response = client.post(f"/manage/calls/{call.id}/edit", data=data)
    assert response.status_code == 400
    assert message in field_errors(page(response), "advance_percent")
    assert snapshot() == before


def test_a_post_without_the_money_fields_keeps_the_calls_settings(client, manager, call):
    call.advance_share, call.zero_report_returns_quota = Decimal("0.25"), False
    db.session.commit()
    criterion = call.voucher_type("travel").criteria[0]
    response = client.post(f"/manage/calls/{call.id}/edit",
                           data=old_post(call.code, "Renamed", criterion.id))
    assert response.status_code == 303, page(response)
    saved = fresh(call)
    assert saved.title == "Renamed"
    assert (saved.advance_share, saved.zero_report_returns_quota) == (Decimal("0.2500"), False)


def test_applicants_read_the_advance_on_the_calls_page(client, make, call):
    for html in (page(client.get("/")), _rules_text(call)):
        assert "The voucher is paid after the final report is approved" in html
        assert "paid in advance" not in html
    call.advance_share = Decimal("0.5")
    db.session.commit()
    login(client, make.applicant())
    for html in (page(client.get("/")), page(client.get("/apply/"))):
        assert "50% of the award is paid in advance, once the voucher is awarded." in html
        assert "less the advance" in html and "pays the difference back" in html
    call.advance_share = Decimal("0.3333")
    db.session.commit()
    assert "33.33% of the award is paid in advance" in _rules_text(call)
    # The manager's call page shows the same words under "What applicants read".
    login(client, make.manager())
    assert "50% of the award" not in page(client.get(f"/manage/calls/{call.id}/edit"))
    assert "33.33% of the award is paid in advance" in page(
        client.get(f"/manage/calls/{call.id}/edit"))
