"""Consent: the privacy notice at registration, the declarations and the answer on
publication at each submission, recorded append-only with the notice's version."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.helpers import login
from vouchers.extensions import db
from vouchers.models import ConsentRecord, User
from vouchers.services import accounts, privacy

REGISTRATION = {"name": "Ada Founder", "email": "ada@startup.example",
                "password": "plum tractor velvet harbour",
                "confirm": "plum tractor velvet harbour"}


def consents(user_id: int) -> list[tuple]:
    return [(c.kind, c.given, c.version, c.application_id) for c in db.session.scalars(
        select(ConsentRecord).where(ConsentRecord.user_id == user_id)
        .order_by(ConsentRecord.id))]


def test_the_privacy_notice_is_public_and_linked_from_registration(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "Privacy notice" in page and privacy.NOTICE_VERSION in page
    assert "10 years" in page and "5 years" in page
    form = client.get("/account/register").get_data(as_text=True)
    assert 'href="/privacy"' in form and 'name="privacy_notice"' in form


def test_registration_needs_the_box_ticked(client):
    response = client.post("/account/register", data=REGISTRATION)
    assert response.status_code == 400
    assert "Read the privacy notice and tick the box." in response.get_data(as_text=True)
    assert accounts.find_by_email("ada@startup.example") is None
    assert db.session.scalar(select(ConsentRecord.id)) is None


def test_registration_records_the_consent(client):
    response = client.post("/account/register", data={**REGISTRATION, "privacy_notice": "y"})
    assert response.status_code == 303
    user = accounts.find_by_email("ada@startup.example")
    assert consents(user.id) == [("privacy_notice", True, privacy.NOTICE_VERSION, None)]


def test_a_taken_address_records_nothing_for_its_owner(client, make):
    owner = make.applicant()
    response = client.post("/account/register", data={
        **REGISTRATION, "email": owner.email, "privacy_notice": "y"})
    assert response.status_code == 303
    assert consents(owner.id) == []


@pytest.mark.parametrize("ticked, given", [({"publication_consent": "y"}, True), ({}, False)])
def test_each_submission_records_its_declarations_and_the_publication_answer(
        client, make, ticked, given):
    application = make.draft(make.call().voucher_type("travel"))
    owner = application.applicant
    login(client, owner)
    response = client.post(f"/apply/applications/{application.id}/submit", data=ticked)
    assert response.status_code == 303
    assert consents(owner.id) == [
        ("submission", True, privacy.NOTICE_VERSION, application.id),
        ("publication", given, privacy.NOTICE_VERSION, application.id)]
    assert application.publication_consent is given


def test_consent_records_are_append_only(app, make):
    user = make.applicant()
    record = privacy.record_consent(user, privacy.PRIVACY_NOTICE)
    db.session.commit()
    record.given = False
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(User, user.id) is not None
