"""The consortium's set-up by the lead partner's managers: partners, their regions and
shares, the partner of each manager and evaluator, and what the shares and partners change
for awards and evaluator assignment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.helpers import login, logout
from vouchers import policy
from vouchers.extensions import db
from vouchers.models import Assignment, ChangeRecord, Invitation, Partner, PartnerShare, User
from vouchers.services import (
    accounts,
    assignment,
    organisations,
    partner_regions,
    partner_setup,
    transitions,
)
from vouchers.services.errors import BudgetExceeded, InvalidInput, NotAllowed


def page(response) -> str:
    return response.get_data(as_text=True)


def form(**changes) -> dict:
    data = {"name": "Brabant Development Agency", "country": "NL", "currency": "EUR",
            "regions": "NL | North Brabant | NL41"}
    data.update(changes)
    return data


@pytest.fixture
def programme(make):
    return make.call().programme


@pytest.fixture
def lead(make, client):
    user = make.manager()
    login(client, user)
    return user


def add(client, programme, **changes):
    return client.post(f"/manage/programmes/{programme.id}/partners/new", data=form(**changes))


def test_a_lead_manager_adds_a_partner_and_sees_it_listed(client, programme, lead, make):
    response = add(client, programme, currency="PLN", is_lead="y",
                   regions="NL | North Brabant | NL41\nDE | Bavaria | DE2")
    assert response.status_code == 303
    partner = db.session.scalar(select(Partner).where(Partner.programme_id == programme.id))
    assert (partner.name, partner.currency, partner.is_lead) == (
        "Brabant Development Agency", "PLN", True)
    assert [(r.country, r.region, r.nuts_code) for r in partner.regions] == [
        ("NL", "North Brabant", "NL41"), ("DE", "Bavaria", "DE2")]
    make.manager(partner=partner)
    html = page(client.get("/manage/partners"))
    assert "Brabant Development Agency" in html and "NL North Brabant (NL41)" in html
    assert "Lead partner" in html and "PLN" in html
    record = db.session.scalar(select(ChangeRecord).where(ChangeRecord.subject_type == "partner"))
    assert record.action == "created" and record.actor_id == lead.id


def test_adding_a_partner_places_the_applications_of_its_regions(client, programme, lead, make):
    application = make.application("submitted", programme.calls[0].voucher_type("travel"))
    assert application.partner_id is None
    assert add(client, programme, currency="DKK").status_code == 303
    db.session.expire_all()
    partner = db.session.scalar(select(Partner).where(Partner.programme_id == programme.id))
    assert (application.partner_id, application.currency) == (partner.id, "DKK")
    assert ">1</td>" in page(client.get("/manage/partners")).replace(" ", "")


@pytest.mark.parametrize("changes, message", [
    ({"regions": "N1 | North Brabant | NL41"}, "two capital letters"),
    ({"regions": "NL North Brabant NL41"}, "separated by |"),
    ({"regions": "NL | North Brabant | DE21"}, "starts with NL"),
    ({"regions": "NL | North Brabant | NL412345"}, "3 to 5"),
    ({"regions": "NL | Utrecht | NL31"}, "add it to the programme first"),
    ({"regions": "NL | North Brabant | NL41\nNL | north  brabant | NL41"}, "listed twice"),
    ({"currency": "NOR"}, "InforEuro"),
    ({"currency": "E1R"}, "capitals"),
    ({"currency": "EURO"}, "Three letters"),
    ({"country": "N1"}, "two capital letters"),
])
def test_bad_partner_input_is_refused_with_a_message(client, programme, lead, changes,
                                                       message):
    response = add(client, programme, **changes)
    assert response.status_code in (400, 422)
    assert message in page(response)
    assert db.session.scalar(select(Partner.id)) is None


def test_codes_typed_in_lower_case_are_taken_in_capitals(client, programme, lead):
    response = add(client, programme, country="nl", currency="eur",
                   regions="nl | North Brabant | nl41")
    assert response.status_code == 303
    partner = db.session.scalar(select(Partner))
    assert (partner.country, partner.currency) == ("NL", "EUR")
    assert [(r.country, r.nuts_code) for r in partner.regions] == [("NL", "NL41")]


def test_nuts_codes_use_el_for_greece_and_uk_for_great_britain(programme, make):
    programme.regions = programme.regions + [["GR", "Attica"], ["UK", "Scotland"]]
    db.session.commit()
    regions, problems = partner_regions.parse_region_lines(
        "GR | Attica | EL30\nGB | Scotland | UKM")
    assert problems == []
    partner = partner_setup.save_partner(
        programme, partner_setup.PartnerSpec("Southern agency", "GR", regions=regions),
        make.manager())
    assert [(r.country, r.nuts_code) for r in partner.regions] == [("GR", "EL30"),
                                                                    ("UK", "UKM")]
    _, problems = partner_regions.parse_region_lines("GR | Attica | GR30")
    assert "starts with EL" in problems[0]


def test_a_programme_has_one_lead_partner(client, programme, lead, make):
    make.partner(programme, "Lead agency", is_lead=True)
    response = add(client, programme, is_lead="y")
    assert response.status_code == 422
    assert "Lead agency is already the lead partner" in page(response)
    assert add(client, programme).status_code == 303  # as a partner, it is welcome


def test_a_region_belongs_to_one_partner(client, programme, lead, make):
    make.partner(programme, "First agency", regions=[("NL", "North Brabant", "NL41")])
    response = add(client, programme, regions="NL | north brabant | NL41")
    assert response.status_code == 422
    assert "NL north brabant is already a region of First agency" in page(response)


def test_editing_a_partner_moves_its_applications(client, programme, lead, make):
    first = make.partner(programme, "First agency", regions=[("NL", "North Brabant", "NL41")])
    second = make.partner(programme, "Second agency", regions=[("DE", "Bavaria", "DE2")])
    application = make.application("submitted", programme.calls[0].voucher_type("travel"))
    assert application.partner_id == first.id
    response = client.post(f"/manage/partners/{first.id}/edit",
                           data=form(name="First agency", regions=""))
    assert response.status_code == 303
    response = client.post(f"/manage/partners/{second.id}/edit",
                           data=form(name="Second agency", currency="EUR",
                                     regions="DE | Bavaria | DE2\nNL | North Brabant | NL41"))
    assert response.status_code == 303
    db.session.expire_all()
    assert application.partner_id == second.id
    assert "NL | North Brabant | NL41" in page(client.get(f"/manage/partners/{second.id}/edit"))


def test_a_partner_manager_cannot_open_the_partners_page(client, programme, make):
    partner = make.partner(programme, "Regional agency")
    make.partner(programme, "Lead agency", is_lead=True)
    login(client, make.manager())
    assert 'href="/manage/partners"' in page(client.get("/manage/calls"))
    login(client, make.manager(partner=partner))
    assert 'href="/manage/partners"' not in page(client.get("/manage/applications"))
    assert client.get("/manage/partners").status_code == 404
    assert add(client, programme).status_code == 404
    with pytest.raises(NotAllowed):
        partner_setup.save_partner(programme, partner_setup.PartnerSpec("X", "NL"),
                                   make.manager(partner=partner))


# --- shares ----------------------------------------------------------------------------


def shares_form(cvt, amount) -> dict:
    return {f"share_{cvt.id}": amount}


def test_shares_of_one_type_stay_within_its_envelope(client, programme, lead, make):
    cvt = programme.calls[0].voucher_type("market_validation")  # envelope 360,000
    other = make.partner(programme, "Other agency")
    db.session.add(PartnerShare(partner_id=other.id, call_voucher_type_id=cvt.id,
                                envelope=Decimal("300000")))
    db.session.commit()
    response = add(client, programme, **shares_form(cvt, "70000"))
    assert response.status_code == 422
    assert "would total €370,000.00, more than the envelope of €360,000.00" in page(response)
    assert "€60,000.00 is left for this partner" in page(response)
    assert add(client, programme, **shares_form(cvt, "60000")).status_code == 303


def test_an_award_beyond_the_partners_share_is_refused_and_a_cancellation_gives_it_back(
        programme, make):
    cvt = programme.calls[0].voucher_type("market_validation")
    manager = make.manager()
    partner = partner_setup.save_partner(programme, partner_setup.PartnerSpec(
        "Brabant agency", "NL", regions=[partner_setup.RegionSpec(
            "NL", "North Brabant", "NL41")], shares={cvt.id: Decimal("50000")}), manager)
    db.session.commit()
    application = make.application("under_review", cvt, manager=manager)
    assert application.partner_id == partner.id
    with pytest.raises(BudgetExceeded, match=r"share of Brabant agency: €50,000.00 of its "
                                             r"€50,000.00 remains"):
        transitions.award(application, manager, "60000")
    db.session.rollback()
    share = db.session.scalar(select(PartnerShare))
    assert share.committed == 0 and cvt.committed == 0
    transitions.award(application, manager, "45000")
    db.session.commit()
    assert share.committed == Decimal("45000.00")
    other = make.application("under_review", cvt, manager=manager)
    with pytest.raises(BudgetExceeded, match="€5,000.00 of its €50,000.00 remains"):
        transitions.award(other, manager, "6000")
    db.session.rollback()
    transitions.cancel(application, manager, "Given up.")
    db.session.commit()
    db.session.refresh(share)
    assert share.committed == 0
    transitions.award(other, manager, "50000")
    db.session.commit()
    db.session.refresh(share)
    assert share.committed == Decimal("50000.00")


def test_a_share_given_after_awards_starts_with_what_they_hold(programme, make):
    cvt = programme.calls[0].voucher_type("market_validation")
    manager = make.manager()
    partner = make.partner(programme, "Brabant agency",
                           regions=[("NL", "North Brabant", "NL41")])
    make.application("awarded", cvt, manager=manager, amount="40000")
    spec = partner_setup.PartnerSpec("Brabant agency", "NL", regions=[
        partner_setup.RegionSpec("NL", "North Brabant", "NL41")], shares={cvt.id: Decimal("30000")})
    with pytest.raises(InvalidInput, match="already hold €40,000.00"):
        partner_setup.save_partner(programme, spec, manager, partner)
    db.session.rollback()
    spec.shares = {cvt.id: Decimal("100000")}
    partner_setup.save_partner(programme, spec, manager, partner)
    db.session.commit()
    assert db.session.scalar(select(PartnerShare.committed)) == Decimal("40000.00")


def test_a_partner_with_awards_and_no_share_is_edited_as_it_is(programme, make):
    # Every share field empty ("no share of its own") must not stop the edit of a partner
    # whose vouchers hold money; and a share once set may be given up again.
    cvt = programme.calls[0].voucher_type("market_validation")
    manager = make.manager()
    partner = make.partner(programme, "Brabant agency",
                           regions=[("NL", "North Brabant", "NL41")])
    make.application("awarded", cvt, manager=manager, amount="40000")
    regions = [partner_setup.RegionSpec("NL", "North Brabant", "NL41")]
    spec = partner_setup.PartnerSpec("Brabant Development Agency", "NL", regions=regions,
                                     shares={cvt.id: None})
    partner_setup.save_partner(programme, spec, manager, partner)
    db.session.commit()
    assert partner.name == "Brabant Development Agency" and not partner.shares
    spec.shares = {cvt.id: Decimal("50000")}
    partner_setup.save_partner(programme, spec, manager, partner)
    spec.shares = {cvt.id: None}
    partner_setup.save_partner(programme, spec, manager, partner)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(PartnerShare)) == 0


# --- evaluators of other partners ------------------------------------------------------


def test_a_call_may_ask_for_evaluators_of_other_partners(programme, make):
    call = programme.calls[0]
    own = make.partner(programme, "Brabant agency", regions=[("NL", "North Brabant", "NL41")])
    other = make.partner(programme, "Bavarian agency", regions=[("DE", "Bavaria", "DE2")])
    application = make.application("submitted", call.voucher_type("travel"))
    colleague, outsider = make.evaluator(partner=own), make.evaluator(partner=other)
    assert policy.may_be_assigned(colleague, application) is None
    call.evaluators_from_other_partners = True
    db.session.commit()
    assert policy.may_be_assigned(colleague, application) == (
        f"{colleague.name} works for the partner of the applicant's region (Brabant agency); "
        "this call asks for evaluators of other partners.")
    assert [c.id for c in assignment.eligible_evaluators(application)] == [outsider.id]
    result = assignment.auto_assign(call, 1, make.manager())
    db.session.commit()
    assert result is not None
    assert db.session.scalars(select(Assignment.evaluator_id).where(
        Assignment.application_id == application.id)).all() == [outsider.id]


def test_the_call_rules_form_saves_the_evaluators_rule(client, programme, lead):
    from tests.test_manager_calls import form_fields

    call = programme.calls[0]
    data = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    assert "evaluators_from_other_partners" not in data  # unticked
    data["evaluators_from_other_partners"] = "y"
    response = client.post(f"/manage/calls/{call.id}/edit", data=data)
    assert response.status_code == 303, page(response)
    db.session.expire_all()
    assert call.evaluators_from_other_partners is True
    data = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    assert data["evaluators_from_other_partners"] == "y"
    data.pop("evaluators_from_other_partners")
    assert client.post(f"/manage/calls/{call.id}/edit", data=data).status_code == 303
    db.session.expire_all()
    assert call.evaluators_from_other_partners is False


# --- users ----------------------------------------------------------------------------


def test_an_invited_evaluator_works_for_the_partner_named_in_the_invitation(
        client, programme, lead, make):
    partner = make.partner(programme, "Brabant agency")
    response = client.post("/manage/users/invite", data={
        "name": "Eva Luator", "email": "eva@x.example", "role": "evaluator",
        "partner_id": str(partner.id)})
    assert response.status_code == 303
    invitation = db.session.scalar(select(Invitation).where(Invitation.email == "eva@x.example"))
    assert invitation.partner_id == partner.id
    assert "Brabant agency" in page(client.get("/manage/users"))
    _, token = accounts.create_invitation(by=lead, email="eva@x.example", name="Eva Luator",
                                          role="evaluator", partner_id=partner.id)
    invitation = accounts.find_invitation(token)
    user = accounts.accept_invitation(invitation, "marble pigeon saffron")
    db.session.commit()
    assert user.partner_id == partner.id


def test_a_lead_manager_changes_a_managers_partner(client, programme, lead, make):
    partner = make.partner(programme, "Brabant agency")
    colleague = make.manager()
    response = client.post(f"/manage/users/{colleague.id}/partner",
                           data={"partner_id": str(partner.id)})
    assert response.status_code == 303
    db.session.expire_all()
    assert colleague.partner_id == partner.id
    record = db.session.scalar(select(ChangeRecord).where(
        ChangeRecord.subject_type == "user", ChangeRecord.subject_id == colleague.id))
    assert record.changes == {"partner": ["none", "Brabant agency"]}
    assert "Brabant agency" in page(client.get("/manage/users"))
    applicant = make.applicant()
    response = client.post(f"/manage/users/{applicant.id}/partner",
                           data={"partner_id": str(partner.id)})
    assert response.status_code == 303
    assert "Only managers and evaluators" in page(client.get("/manage/users"))
    assert db.session.get(User, applicant.id).partner_id is None
    logout(client)


def test_a_company_that_moves_region_moves_to_that_partner(programme, make):
    programme.regions = programme.regions + [["NL", "Utrecht"]]
    brabant = make.partner(programme, "Brabant agency", regions=[("NL", "North Brabant", "NL41")])
    utrecht = make.partner(programme, "Utrecht agency", regions=[("NL", "Utrecht", "NL31")])
    application = make.application("submitted", programme.calls[0].voucher_type("travel"))
    assert application.partner_id == brabant.id
    org = application.organisation
    organisations.correct_organisation(
        org, make.manager(), legal_name=org.legal_name, registry_number=org.registry_number,
        country="NL", region="utrecht", size=org.size, sector=org.sector,
        reason="Moved to Utrecht.")
    db.session.commit()
    assert application.partner_id == utrecht.id


def test_an_applicant_who_moves_region_takes_the_draft_to_that_partner(programme, make):
    programme.regions = programme.regions + [["NL", "Utrecht"]]
    brabant = make.partner(programme, "Brabant agency", regions=[("NL", "North Brabant", "NL41")])
    utrecht = make.partner(programme, "Utrecht agency", regions=[("NL", "Utrecht", "NL31")])
    applicant = make.applicant()
    draft = make.draft(programme.calls[0].voucher_type("travel"), applicant)
    assert draft.partner_id == brabant.id
    org = applicant.organisation
    organisations.save_profile(applicant, legal_name=org.legal_name,
                               registry_number=org.registry_number, country="NL",
                               region="Utrecht", size=org.size, sector=org.sector)
    db.session.commit()
    assert draft.partner_id == utrecht.id
