"""Dated de minimis declarations: the applicant's profile and the manager's company page."""

from __future__ import annotations

import html
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.helpers import login, snapshot
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import AidDeclaration, ChangeRecord
from vouchers.services import aid
from vouchers.services.budget import last_day_counted
from vouchers.services.errors import InvalidInput, NotAllowed

PROFILE = "/apply/profile"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def declared(org, granted_on: date, amount: str, body: str = "Regional agency"):
    declaration = aid.declare(org, org.members[0], body, granted_on, amount)
    db.session.commit()
    return declaration


def years_ago(years: int) -> date:
    day = today()
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@pytest.fixture
def owner(make):
    return make.applicant()


def test_profile_lists_declarations_with_until_when_each_counts(client, owner):
    org = owner.organisation
    recent = declared(org, today() - timedelta(days=10), "12000.00", "Catalan agency")
    declared(org, years_ago(4), "50000.00", "Old ministry grant")
    login(client, owner)
    page = text(client.get(PROFILE))
    section = page.split('id="aid-heading"')[1]
    assert "Catalan agency" in section and "€12,000.00" in section
    assert f"counts until {last_day_counted(recent.granted_on):%d %b %Y}" in section
    assert "Old ministry grant" in section and "no longer counts" in section
    # The total counted today leaves the old aid out.
    assert "Counted today</th><td class=\"num\">€12,000.00" in section
    # The undated figure is gone from the profile form.
    assert 'name="de_minimis_declared"' not in page


def test_applicant_declares_an_aid_and_it_is_recorded(client, owner):
    login(client, owner)
    granted = (today() - timedelta(days=100)).isoformat()
    response = client.post(f"{PROFILE}/aid", data={
        "granting_body": "Brabant innovation fund", "granted_on": granted,
        "amount": "7500.50"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/apply/profile#aid-heading")
    [declaration] = db.session.scalars(select(AidDeclaration)).all()
    assert (declaration.organisation_id, declaration.granting_body, declaration.amount,
            declaration.declared_by_id) == (owner.organisation_id, "Brabant innovation fund",
                                            Decimal("7500.50"), owner.id)
    [record] = db.session.scalars(select(ChangeRecord)).all()
    assert (record.action, record.subject_id, record.actor_id) == (
        "declare_aid", owner.organisation_id, owner.id)
    assert record.changes["amount"] == ["", "7500.50"]
    assert "Brabant innovation fund" in text(client.get(PROFILE))


@pytest.mark.parametrize("change, says, status", [
    ({"granting_body": ""}, "Say who granted the aid.", 400),
    ({"granting_body": "Agency\u202e"}, "contains an invisible", 422),
    ({"granted_on": ""}, "Give the date the aid was granted.", 400),
    ({"granted_on": "31/12/2024"}, "Not a valid date value", 400),
    ({"granted_on": "future"}, "cannot be in the future", 422),
    ({"granted_on": "1999-12-31"}, "cannot be before 01 January 2000", 422),
    ({"amount": ""}, "Give the amount of the aid.", 400),
    ({"amount": "0"}, "must be greater than zero", 422),
    ({"amount": "-5"}, "cannot be negative", 400),
    ({"amount": "1,000"}, "with a dot for cents", 400),
    ({"amount": "12.345"}, "more than two decimals", 400),
    ({"amount": "1e3"}, "is not an amount", 400),
])
def test_bad_declarations_are_refused_with_a_message_and_change_nothing(client, owner, change,
                                                                        says, status):
    login(client, owner)
    data = {"granting_body": "Agency", "granted_on": "2025-01-10", "amount": "1000"}
    data.update(change)
    if data["granted_on"] == "future":
        data["granted_on"] = (today() + timedelta(days=1)).isoformat()
    before = snapshot()
    response = client.post(f"{PROFILE}/aid", data=data)
    assert response.status_code == status
    assert says in text(response)
    assert snapshot() == before


def test_withdrawing_needs_a_reason_and_keeps_what_was_withdrawn(client, owner):
    declaration = declared(owner.organisation, date(2025, 1, 10), "3000")
    login(client, owner)
    url = f"{PROFILE}/aid/{declaration.id}/withdraw"
    before = snapshot()
    response = client.post(url, data={})
    assert response.status_code == 400 and "Say why the declaration is withdrawn." in text(
        response)
    response = client.post(url, data={"reason": "   "})
    assert response.status_code == 422 and "Say why" in text(response)
    assert snapshot() == before
    response = client.post(url, data={"reason": "Entered twice."})
    assert response.status_code == 303
    assert db.session.scalars(select(AidDeclaration)).all() == []
    record = db.session.scalars(select(ChangeRecord).where(
        ChangeRecord.action == "withdraw_aid")).one()
    assert record.reason == "Entered twice."
    assert record.changes == {"granting_body": ["Regional agency", ""],
                              "granted_on": ["2025-01-10", ""], "amount": ["3000.00", ""]}


def test_others_may_neither_withdraw_nor_declare_for_a_company(client, make, owner):
    declaration = declared(owner.organisation, date(2025, 1, 10), "3000")
    others = (make.applicant(), make.evaluator())
    manager, other = make.manager(), make.applicant().organisation
    stranger, evaluator = make.applicant(), make.evaluator()
    before = snapshot()
    for user in others:
        login(client, user)
        response = client.post(f"{PROFILE}/aid/{declaration.id}/withdraw",
                               data={"reason": "Mine now."})
        assert response.status_code == 404
    # A manager's withdrawal goes through the company's own page; another company's path
    # does not reach it.
    login(client, manager)
    response = client.post(f"/manage/organisations/{other.id}/aid/{declaration.id}/withdraw",
                           data={"reason": "x"})
    assert response.status_code == 404
    assert snapshot() == before
    # The services refuse for themselves.
    with pytest.raises(NotAllowed):
        aid.declare(owner.organisation, stranger, "Agency", date(2025, 1, 1), "10")
    with pytest.raises(NotAllowed):
        aid.withdraw(declaration, evaluator, "No.")


def test_an_applicant_without_a_company_is_sent_to_the_profile_first(client, make):
    user = make.user("applicant")
    login(client, user)
    response = client.post(f"{PROFILE}/aid", data={
        "granting_body": "Agency", "granted_on": "2025-01-10", "amount": "1000"})
    assert response.status_code == 303 and response.headers["Location"].endswith(PROFILE)
    assert "Save the company profile first" in text(client.get(PROFILE))
    assert db.session.scalars(select(AidDeclaration)).all() == []


def test_the_service_reads_dates_and_amounts_strictly(owner):
    org = owner.organisation
    declaration = aid.declare(org, owner, "  Agency  ", "2025-02-01", "100.5")
    assert (declaration.granting_body, declaration.granted_on, declaration.amount) == (
        "Agency", date(2025, 2, 1), Decimal("100.50"))
    for granted_on, amount, says in [("1 Feb 2025", "1", "YYYY-MM-DD"), (None, "1", "Give"),
                                     ("2025-02-01", "100.005", "two decimals"),
                                     ("2025-02-01", "1E3", "not an amount")]:
        with pytest.raises(InvalidInput, match=says):
            aid.declare(org, owner, "Agency", granted_on, amount)


def test_manager_sees_declares_and_withdraws_on_the_company_page(client, make, owner):
    org = owner.organisation
    make.application("submitted", applicant=owner)
    declaration = declared(org, years_ago(1), "40000")
    manager = make.manager()
    login(client, manager)
    page = text(client.get(f"/manage/organisations/{org.id}"))
    assert 'name="de_minimis_declared"' not in page
    section = page.split('id="aid-heading"')[1]
    assert "Regional agency" in section and "€40,000.00" in section and "counts until" in section
    response = client.post(f"/manage/organisations/{org.id}/aid", data={
        "granting_body": "Ministry of Economic Affairs", "granted_on": "2024-11-05",
        "amount": "2500"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/manage/organisations/{org.id}#aid-heading")
    response = client.post(f"/manage/organisations/{org.id}/aid/{declaration.id}/withdraw",
                           data={"reason": "The register shows a loan, not aid."})
    assert response.status_code == 303
    db.session.expire_all()
    assert [d.granting_body for d in org.aid_declarations] == ["Ministry of Economic Affairs"]
    history = text(client.get(f"/manage/organisations/{org.id}")).split(
        'id="aid-history-heading"')[1]
    assert "Withdrawn" in history and "The register shows a loan, not aid." in history
    assert "Declared" in history and "Ministry of Economic Affairs" in history
    assert manager.name in history and owner.name in history
    # A refusal is drawn on the same page.
    response = client.post(f"/manage/organisations/{org.id}/aid", data={
        "granting_body": "X", "granted_on": "2024-11-05", "amount": "0"})
    assert response.status_code == 422 and "greater than zero" in text(response)


def test_corrections_of_the_old_undated_figure_stay_in_the_history(client, make, owner):
    org = owner.organisation
    manager = make.manager()
    db.session.add(ChangeRecord(subject_type="organisation", subject_id=org.id,
                                action="correct", actor_id=manager.id, reason="Old.",
                                changes={"de_minimis_declared": ["0.00", "1500.50"]}))
    db.session.commit()
    login(client, manager)
    history = text(client.get(f"/manage/organisations/{org.id}")).split(
        'id="history-heading"')[1]
    assert "De minimis aid received (undated): 0.00 → 1500.50" in history
