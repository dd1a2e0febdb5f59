"""The eligibility rules: each passes, fails with its reason, and takes (or refuses) a
manager's exception; the award refuses a failing rule; the pages show every result."""

from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.helpers import PDF, login, snapshot
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, Attachment, AuditRecord, EligibilityOverride
from vouchers.services import eligibility, transitions
from vouchers.services.eligibility_rules import RULES
from vouchers.services.errors import (
    DomainError,
    IneligibleApplication,
    InvalidInput,
    NotAllowed,
    TransitionNotAllowed,
)

OVERRIDABLE = ("region", "provider_region", "activity_dates", "attachments", "size",
               "applications_per_type", "vouchers_per_sme")
CEILINGS = ("support_cap", "de_minimis")


def result(application, code: str) -> eligibility.RuleResult:
    return next(r for r in eligibility.evaluate(application) if r.code == code)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def submitted(make, draft):
    make.step(draft, "submit", applicant=draft.applicant, manager=None)
    return draft


def mv(make, call=None):
    return (call or make.call()).voucher_type("market_validation")


# --- one application failing each rule -------------------------------------------------


def fails_region(make):
    return make.application("submitted", applicant=make.applicant(country="AT", region="Tyrol"))


def fails_provider_region(make):
    cvt = mv(make)
    cvt.provider_other_region = True
    draft = make.draft(cvt)
    draft.provider_id = make.provider(country="NL", region="North Brabant").id
    db.session.commit()
    return submitted(make, draft)


def fails_activity_dates(make):
    draft = make.draft(mv(make))
    draft.details = {**draft.details, "delivery_date": "2020-01-15"}
    db.session.commit()
    return submitted(make, draft)


def fails_attachments(make):
    cvt = mv(make)
    cvt.required_attachments = ["quote"]
    db.session.commit()
    return make.application("submitted", cvt)


def fails_size(make):
    return make.application("submitted", applicant=make.applicant(size="large"))


def fails_applications_per_type(make):
    cvt, applicant = mv(make), make.applicant()
    make.application("submitted", cvt, applicant=applicant)
    return make.application("submitted", cvt, applicant=applicant)


def fails_vouchers_per_sme(make):
    call, applicant = make.call(), make.applicant()
    call.max_vouchers_per_sme = 1
    db.session.commit()
    make.application("awarded", call.voucher_type("travel"), applicant=applicant)
    return make.application("submitted", mv(make, call), applicant=applicant, requested="20000")


def fails_support_cap(make):
    call = make.call()
    call.support_cap = Decimal("10000")
    db.session.commit()
    return make.application("submitted", mv(make, call))


def fails_de_minimis(make):
    return make.application("submitted", applicant=make.applicant(declared="290000"))


FAILING = {code: globals()[f"fails_{code}"] for code in RULES}

MESSAGES = {
    "region": "Tyrol (AT), which is not one of the call's eligible regions: North Brabant (NL)",
    "provider_region": "the company's own region",
    "activity_dates": "Service delivered by (15 Jan 2020) is before the day of submission",
    "attachments": "Missing: The provider's quote.",
    "size": "a large enterprise; the call is open to micro, small and medium enterprises only",
    "applications_per_type": "2 applications for market validation in this call (this one "
                             "included); the call allows 1",
    "vouchers_per_sme": "already holds 1 voucher of this programme; a company may hold at most 1",
    "support_cap": "the cap per company is €10,000.00",
    "de_minimis": "de minimis aid over the rolling 3 years",
}


@pytest.mark.parametrize("code", list(RULES))
def test_each_rule_passes_for_a_plain_application(make, code):
    application = make.application("submitted")
    r = result(application, code)
    assert r.passed and not r.blocks and r.reason
    assert application.fails_rules is False


@pytest.mark.parametrize("code", list(RULES))
def test_each_rule_fails_with_its_reason(make, code):
    application = FAILING[code](make)
    r = result(application, code)
    assert not r.passed and r.blocks
    assert MESSAGES[code] in r.reason
    # The others still pass: each builder breaks one rule only.
    assert [x.code for x in eligibility.blocking(application)] == [code] or (
        code == "applications_per_type")
    # Submission is not refused; the flag says the application fails a rule.
    assert application.state == "submitted" and application.fails_rules is True


@pytest.mark.parametrize("code", OVERRIDABLE)
def test_a_manager_accepts_an_exception_with_a_reason(make, code):
    application = FAILING[code](make)
    manager = make.manager()
    eligibility.accept_exception(application, code, "  The partner region vouches for it. ",
                                 manager)
    db.session.commit()
    r = result(application, code)
    assert not r.passed and not r.blocks
    assert r.override.reason == "The partner region vouches for it."
    assert r.override.by_id == manager.id
    record = db.session.scalars(select(AuditRecord).where(
        AuditRecord.application_id == application.id,
        AuditRecord.trigger == "accept_exception")).one()
    assert record.from_state == record.to_state == "submitted"
    assert record.actor_id == manager.id
    assert record.comment == f"{RULES[code].label}: The partner region vouches for it."
    if code != "applications_per_type":
        assert application.fails_rules is False


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_exception_needs_a_reason(make, reason):
    application, manager = fails_region(make), make.manager()
    before = snapshot()
    with pytest.raises(InvalidInput, match="Give the reason"):
        eligibility.accept_exception(application, "region", reason, manager)
    assert snapshot() == before


@pytest.mark.parametrize("code", CEILINGS)
def test_the_legal_ceilings_admit_no_exception(make, code):
    application = FAILING[code](make)
    with pytest.raises(IneligibleApplication, match="legal ceiling"):
        eligibility.accept_exception(application, code, "Important SME.", make.manager())
    assert result(application, code).overridable is False
    assert db.session.scalar(select(func.count()).select_from(EligibilityOverride)) == 0


def test_refusals_of_an_exception(make):
    application = fails_region(make)
    manager = make.manager()
    with pytest.raises(InvalidInput, match="the rule passes"):
        eligibility.accept_exception(application, "size", "Why not.", manager)
    with pytest.raises(InvalidInput, match="no such eligibility rule"):
        eligibility.accept_exception(application, "colour", "Why not.", manager)
    with pytest.raises(InvalidInput, match="at most 2,000 characters"):
        eligibility.accept_exception(application, "region", "x" * 2001, manager)
    with pytest.raises(InvalidInput, match="control character"):
        eligibility.accept_exception(application, "region", "bad\x00text", manager)
    with pytest.raises(NotAllowed):
        eligibility.accept_exception(application, "region", "Mine.", application.applicant)
    eligibility.accept_exception(application, "region", "Second phase region.", manager)
    with pytest.raises(InvalidInput, match="already accepted"):
        eligibility.accept_exception(application, "region", "Again.", manager)
    draft = make.application("draft", applicant=make.applicant(country="AT", region="Tyrol"))
    with pytest.raises(TransitionNotAllowed, match="is draft"):
        eligibility.accept_exception(draft, "region", "Early.", manager)


# --- the rules' details ----------------------------------------------------------------


def test_regions_match_whatever_the_case_and_spaces(make):
    application = make.application(
        "submitted", applicant=make.applicant(country="nl", region="  north BRABANT "))
    assert result(application, "region").passed


def test_the_calls_own_regions_replace_the_programmes_and_none_set_means_any(make):
    application = make.application("submitted")
    call = application.call
    call.eligible_regions = [["BE", "Wallonia"]]
    db.session.commit()
    assert "eligible regions: Wallonia (BE)." in result(application, "region").reason
    call.eligible_regions = []
    call.programme.regions = []
    db.session.commit()
    r = result(application, "region")
    assert r.passed and "sets no eligible regions" in r.reason


def test_provider_region_applies_only_where_the_call_asks_it(make):
    application = fails_provider_region(make)
    application.call_voucher_type.provider_other_region = False
    db.session.commit()
    assert "does not ask" in result(application, "provider_region").reason
    travel = make.application("submitted", make.call().voucher_type("travel"))
    travel.call_voucher_type.provider_other_region = True
    db.session.commit()
    assert result(travel, "provider_region").passed
    other = make.application("submitted")
    other.call_voucher_type.provider_other_region = True
    db.session.commit()
    r = result(other, "provider_region")
    assert r.passed and "Bavaria (DE), another region" in r.reason


def test_a_trip_must_be_inside_the_implementation_period(make):
    cvt = make.call().voucher_type("travel")
    draft = make.draft(cvt)
    day = today()
    draft.details = {**draft.details, "start_date": (day - timedelta(days=1)).isoformat(),
                     "end_date": (day + timedelta(days=2)).isoformat()}
    db.session.commit()
    r = result(draft, "activity_dates")
    assert not r.passed and "First day" in r.reason and "before today" in r.reason
    draft.details = {**draft.details, "start_date": day.isoformat()}
    cvt.call.implementation_ends_on = day + timedelta(days=1)
    db.session.commit()
    r = result(draft, "activity_dates")
    assert not r.passed and "Last day" in r.reason
    assert "after the last day of activities" in r.reason
    cvt.call.implementation_ends_on = None
    db.session.commit()
    assert result(draft, "activity_dates").passed


def test_dates_not_given_are_left_to_completeness(make):
    draft = make.draft(mv(make))
    draft.details = {"service": "Study", "delivery_date": "soon"}
    db.session.commit()
    r = result(draft, "activity_dates")
    assert r.passed and "not given yet" in r.reason
    impact = make.draft(make.call().voucher_type("impact"))
    assert "no activity dates" in result(impact, "activity_dates").reason


def _attach(application, kind: str, purpose: str = "application") -> None:
    db.session.add(Attachment(
        application_id=application.id, purpose=purpose, original_name=f"{kind}.pdf",
        stored_name=f"{application.id}-{kind}-{purpose}", content_type="application/pdf",
        kind=kind, size=len(PDF), uploaded_by_id=application.applicant_id))
    db.session.commit()


def test_a_required_attachment_counts_only_as_an_applications_file_of_its_kind(make):
    application = fails_attachments(make)
    _attach(application, "cv")
    _attach(application, "quote", purpose="report")
    db.session.expire_all()
    assert not result(application, "attachments").passed
    _attach(application, "quote")
    db.session.expire_all()
    r = result(application, "attachments")
    assert r.passed and r.reason == "Attached: The provider's quote."


def test_withdrawn_and_draft_applications_do_not_count_towards_the_limit(make):
    cvt, applicant = mv(make), make.applicant()
    make.application("withdrawn", cvt, applicant=applicant)
    make.application("draft", cvt, applicant=applicant)
    application = make.application("submitted", cvt, applicant=applicant)
    assert result(application, "applications_per_type").passed
    cvt.call.max_applications_per_type = None
    db.session.commit()
    assert "sets no limit" in result(application, "applications_per_type").reason


# --- award and flag ----------------------------------------------------------------------


def test_the_award_refuses_a_failing_rule_and_allows_it_with_an_exception(make):
    applicant = make.applicant(country="AT", region="Tyrol", size="large")
    manager = make.manager()
    application = make.application("under_review", applicant=applicant, manager=manager)
    with pytest.raises(IneligibleApplication) as refused:
        transitions.award(application, manager, application.requested_amount)
    assert "Eligible region" in refused.value.message
    assert "Enterprise size" in refused.value.message
    db.session.rollback()
    assert application.state == "under_review"
    for code in ("region", "size"):
        eligibility.accept_exception(application, code, "Accepted by the steering group.",
                                     manager)
    transitions.award(application, manager, application.requested_amount)
    db.session.commit()
    assert application.state == "awarded"


def test_refresh_call_sets_the_flags_after_the_rules_change(make):
    cvt = mv(make)
    waiting = make.application("submitted", cvt)
    draft = make.application("draft", cvt)
    awarded = make.application("awarded", cvt)
    cvt.call.eligible_regions = [["BE", "Wallonia"]]
    db.session.commit()
    assert eligibility.refresh_call(cvt.call) == 1
    db.session.commit()
    assert waiting.fails_rules is True
    assert draft.fails_rules is False and awarded.fails_rules is False
    cvt.call.eligible_regions = None
    db.session.commit()
    assert eligibility.refresh_call(cvt.call) == 1
    assert waiting.fails_rules is False


# --- the pages ----------------------------------------------------------------------------


def test_the_applicant_sees_a_failing_rule_before_submitting(client, make):
    draft = make.application("draft", applicant=make.applicant(country="AT", region="Tyrol"))
    login(client, draft.applicant)
    page = text(client.get(f"/apply/applications/{draft.id}"))
    assert "Eligible region:" in page and "not one of the call's eligible regions" in page
    assert "can only be funded if the programme accepts an exception" in page
    assert "Enterprise size:</strong>\n      met." in page


def test_the_applicant_is_told_a_legal_ceiling_stops_the_funding(client, make):
    draft = make.application("draft", applicant=make.applicant(declared="290000"))
    login(client, draft.applicant)
    page = text(client.get(f"/apply/applications/{draft.id}"))
    assert "cannot be funded while this holds" in page
    # Submission is not refused.
    response = client.post(f"/apply/applications/{draft.id}/submit")
    assert response.status_code == 303
    db.session.expire_all()
    assert draft.state == "submitted" and draft.fails_rules is True
    assert "It fails one of the call's rules" in text(client.get(response.headers["Location"]))


def test_the_manager_page_shows_every_rule_and_accepts_an_exception(client, make):
    application = fails_region(make)
    manager = make.manager()
    login(client, manager)
    url = f"/manage/applications/{application.id}"
    page = text(client.get(url))
    for rule in RULES.values():
        assert rule.label in page
    assert "1 rule fails without an accepted exception" in page
    assert f'action="/manage/applications/{application.id}/rules/region/accept' in page
    assert "/rules/size/accept" not in page
    response = client.post(f"{url}/rules/region/accept",
                           data={"accept-region-reason": "Tyrol joins in phase two."})
    assert response.status_code == 303
    page = text(client.get(url))
    assert f"Exception accepted by {manager.name}" in page and "Tyrol joins in phase two." in page
    assert "Every rule passes or has an accepted exception." in page


def test_the_manager_page_redraws_a_refused_exception_with_its_message(client, make):
    application = fails_support_cap(make)
    login(client, make.manager())
    url = f"/manage/applications/{application.id}"
    assert "A legal ceiling: no exception can be accepted." in text(client.get(url))
    response = client.post(f"{url}/rules/support_cap/accept",
                           data={"accept-support_cap-reason": "Please."})
    assert response.status_code == 422 and "legal ceiling" in text(response)
    other = fails_region(make)
    before = snapshot()
    response = client.post(f"/manage/applications/{other.id}/rules/region/accept",
                           data={"accept-region-reason": "  "})
    page = text(response)
    assert response.status_code == 422 and "Give the reason" in page
    assert 'id="accept-region"' in page
    assert snapshot() == before
    assert client.post(f"/manage/applications/{other.id}/rules/colour/accept",
                       data={"accept-colour-reason": "x"}).status_code == 404


def test_only_a_manager_accepts_and_only_while_a_decision_is_open(client, make):
    application = fails_region(make)
    login(client, application.applicant)
    url = f"/manage/applications/{application.id}/rules/region/accept"
    assert client.post(url, data={"accept-region-reason": "Mine."}).status_code in (302, 404)
    manager = make.manager()
    login(client, manager)
    transitions.reject(application, manager, "Not selected.")
    db.session.commit()
    assert client.post(url, data={"accept-region-reason": "Late."}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(EligibilityOverride)) == 0
    assert db.session.get(Application, application.id).state == "rejected"


def test_the_vouchers_limit_is_enforced_at_award_and_yields_to_an_exception(make):
    application = fails_vouchers_per_sme(make)
    manager = make.manager()
    make.review(application, manager=manager)
    # undertaking.check_award decides this rule under the undertaking's lock.
    with pytest.raises(DomainError, match="a company may hold at most 1"):
        transitions.award(application, manager, application.requested_amount)
    db.session.rollback()
    eligibility.accept_exception(application, "vouchers_per_sme", "A second phase voucher.",
                                 manager)
    transitions.award(application, manager, application.requested_amount)
    db.session.commit()
    assert application.state == "awarded"


def test_the_first_applications_keep_their_place_when_a_later_one_goes_over_the_limit(make):
    """With one application per SME and type, the SME's second submission fails the rule;
    its first still passes, in the page's results as in the call-wide refresh."""
    cvt, applicant = mv(make), make.applicant()
    first = make.application("submitted", cvt, applicant=applicant)
    second = make.application("submitted", cvt, applicant=applicant)
    results = {a.id: {r.code: r for r in eligibility.evaluate(a)} for a in (first, second)}
    assert results[first.id]["applications_per_type"].passed
    assert not results[second.id]["applications_per_type"].passed
    eligibility.refresh_call(cvt.call)
    db.session.commit()
    assert (first.fails_rules, second.fails_rules) == (False, True)


def test_the_flag_follows_the_company_s_awards_and_declared_aid(make):
    """What a company holds elsewhere changes whether its waiting applications fail a
    rule: an award, a cancellation, an aid declaration and its withdrawal refresh them."""
    from vouchers.services import aid

    call = make.call()
    call.support_cap = Decimal("30000")
    db.session.commit()
    manager, applicant = make.manager(), make.applicant()
    first = make.application("under_review", call.voucher_type("impact"), applicant=applicant,
                             manager=manager, requested="20000", costs="40000")
    waiting = make.application("submitted", mv(make, call), applicant=applicant,
                               requested="20000")
    assert not waiting.fails_rules
    transitions.award(first, manager, "20000")
    db.session.commit()
    assert waiting.fails_rules  # 20,000 + 20,000 is over the cap of 30,000
    transitions.cancel(first, manager, "Given up.")
    db.session.commit()
    assert not waiting.fails_rules
    declaration = aid.declare(applicant.organisation, applicant, "Regional fund", today(),
                              "299000")
    db.session.commit()
    assert waiting.fails_rules  # de minimis: 299,000 + 20,000 is over 300,000
    aid.withdraw(declaration, applicant, "Entered twice.")
    db.session.commit()
    assert not waiting.fails_rules
