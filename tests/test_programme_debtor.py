"""The programme's own bank account (the debtor of its SEPA files) and its granting
authority: set on the programme's form, IBAN and BIC checked with schwifty."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.helpers import login, snapshot
from tests.test_manager_calls import form_fields, page
from vouchers.extensions import db
from vouchers.models import Programme
from vouchers.services import programme_setup
from vouchers.services.errors import InvalidInput

BASICS = {"name": "Health vouchers", "funder": "Interreg NWE",
          "total_budget": Decimal("1240000"), "starts_on": date(2027, 1, 1),
          "ends_on": date(2029, 12, 31)}


@pytest.fixture
def manager(make):
    return make.manager()


def test_a_programme_keeps_its_account_compact_and_its_granting_authority(manager):
    programme = programme_setup.create_programme(
        manager, **BASICS, debtor_name="Biocat ", debtor_iban="es91 2100 0418 4502 0005 1332",
        debtor_bic="caixesbbxxx", granting_authority="Generalitat de Catalunya")
    db.session.commit()
    assert (programme.debtor_name, programme.debtor_iban, programme.debtor_bic) == (
        "Biocat", "ES9121000418450200051332", "CAIXESBBXXX")
    assert programme.granting_authority == "Generalitat de Catalunya"
    # Left out (None) on an update, they stay; given empty, the account goes.
    programme_setup.update_programme(programme, manager, **BASICS)
    assert programme.debtor_iban == "ES9121000418450200051332"
    programme_setup.update_programme(programme, manager, **BASICS, debtor_name="",
                                     debtor_iban="", debtor_bic="", granting_authority="")
    assert (programme.debtor_name, programme.debtor_iban, programme.granting_authority) == (
        "", "", "")


@pytest.mark.parametrize(("account", "message"), [
    ({"debtor_name": "Biocat", "debtor_iban": "ES91 2100 0418 4502 0005 1333"},
     "The programme's IBAN ES91 2100 0418 4502 0005 1333 is not a valid IBAN: its check "
     "digits do not match"),
    ({"debtor_name": "Biocat", "debtor_iban": "ES9121000418450200051332",
      "debtor_bic": "CAIXESBB1"}, "The programme's BIC CAIXESBB1 is not a valid BIC"),
    ({"debtor_name": "Biocat", "debtor_iban": "SA0380000000608010167519"},
     "outside the SEPA zone"),
    ({"debtor_iban": "ES9121000418450200051332"}, "needs both the account's name and its IBAN"),
    ({"debtor_name": "Biocat"}, "needs both the account's name and its IBAN"),
    ({"granting_authority": "A" * 201}, "The granting authority is too long"),
])
def test_a_bad_account_is_refused_with_a_clear_message(manager, account, message):
    with pytest.raises(InvalidInput) as refused:
        programme_setup.create_programme(manager, **BASICS, **account)
    assert message in refused.value.message
    assert db.session.scalar(select(Programme)) is None


def test_the_programme_form_sets_the_account(client, make, manager):
    call = make.call()
    login(client, manager)
    url = f"/manage/programmes/{call.programme_id}/edit"
    fields = form_fields(page(client.get(url)))
    assert {"debtor_name", "debtor_iban", "debtor_bic", "granting_authority"} <= set(fields)
    fields.update(debtor_name="Brabant Development Agency",
                  debtor_iban="NL91 ABNA 0417 1643 00", debtor_bic="ABNANL2A",
                  granting_authority="Province of North Brabant")
    assert client.post(url, data=fields).status_code == 303
    db.session.expire_all()
    programme = db.session.get(Programme, call.programme_id)
    assert (programme.debtor_iban, programme.debtor_bic, programme.granting_authority) == (
        "NL91ABNA0417164300", "ABNANL2A", "Province of North Brabant")
    assert form_fields(page(client.get(url)))["debtor_iban"] == "NL91ABNA0417164300"


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("debtor_iban", "NL91 ABNA 0417 1643 01", "is not a valid IBAN: its check digits do not "
                                              "match (a typing error?)"),
    ("debtor_bic", "ABNA NL", "is not a valid BIC"),
])
def test_a_bad_account_on_the_form_is_shown_next_to_its_field(client, make, manager, field,
                                                              typed, message):
    call = make.call()
    login(client, manager)
    url = f"/manage/programmes/{call.programme_id}/edit"
    fields = {**form_fields(page(client.get(url))), "debtor_name": "Lead partner",
              "debtor_iban": "NL91ABNA0417164300", field: typed}
    before = snapshot()
    response = client.post(url, data=fields)
    assert response.status_code == 400
    assert message in page(response)
    assert f'id="{field}-errors"' in page(response)
    assert snapshot() == before


def test_the_form_without_an_account_still_creates_a_programme(client, manager):
    login(client, manager)
    response = client.post("/manage/programmes/new", data={
        "name": "Health vouchers", "funder": "Interreg NWE", "total_budget": "1240000",
        "starts_on": "2027-01-01", "ends_on": "2029-12-31", "regions": "BE Wallonia"})
    assert response.status_code == 303
    programme = db.session.scalar(select(Programme))
    assert (programme.debtor_iban, programme.granting_authority) == ("", "")
