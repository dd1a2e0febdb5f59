"""VAT and registry numbers per country (python-stdnum), IBANs and BICs (schwifty): the
pure checks, then the company profile and the manager's correction that use them. Each
bad value gets a sentence naming what is wrong; good ones are stored compact."""

from __future__ import annotations

import re

import pytest

from tests.helpers import login, snapshot
from vouchers import identifiers as ids
from vouchers.extensions import db
from vouchers.identifiers import IdentifierError
from vouchers.services.organisations import correct_organisation

# Valid numbers of made-up companies (check digits computed with stdnum), per country:
# (VAT number, registry number). The demo data may use them.
VALID = {
    "NL": ("NL436450306B01", "16319229"),
    "DE": ("DE539163168", "München HRB 63144"),
    "BE": ("BE0214112454", "0524927277"),
    "DK": ("DK45386066", "30549511"),
    "SE": ("SE692445398501", "5555745099"),
    "ES": ("ESB20383261", "B88268081"),
    "FR": ("FR75172754111", "223937079"),
    "IT": ("IT18253560421", "77300540968"),
    "IE": ("IE7149665W", "231339"),
    "FI": ("FI87653038", "27417420"),
}
# Valid IBANs of the countries' large banks (accounts made up), with their banks' BICs.
IBANS = {
    "NL": ("NL95 RABO 3998 6987 97", "RABONL2U"),
    "DE": ("DE85 3704 0044 2940 5572 16", "COBADEFFXXX"),
    "BE": ("BE14 0017 3177 8483", "GEBABEBB"),
    "DK": ("DK06 3000 8045 7178 42", "DABADKKK"),
    "SE": ("SE05 5008 4520 5997 2837 9291", "ESSESESS"),
    "ES": ("ES54 2100 9922 9218 6032 0807", "CAIXESBB"),
    "FR": ("FR76 3000 4008 1800 0123 4567 894", "BNPAFRPP"),
    "IT": ("IT25 O030 6909 6061 0000 0012 345", "BCITITMM"),
    "IE": ("IE09 AIBK 0454 1459 0853 80", "AIBKIE2DXXX"),
    "FI": ("FI78 1238 8642 3004 82", "NDEAFIHH"),
}


def message(check, *args) -> str:
    with pytest.raises(IdentifierError) as exc:
        check(*args)
    assert isinstance(exc.value, ValueError)
    return str(exc.value)


# --- VAT numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("country", sorted(VALID))
def test_valid_vat_numbers_come_back_compact(country):
    vat = VALID[country][0]
    spaced = f"{vat[:2].lower()} {vat[2:6]}.{vat[6:]}"
    assert ids.vat_number(spaced, country) == vat
    # Without the prefix, the company's country's is assumed.
    assert ids.vat_number(vat[2:], country) == vat


def test_an_empty_vat_number_is_none():
    assert ids.vat_number("", "NL") is None
    assert ids.vat_number("   ", "DE") is None
    assert ids.vat_number(None, "DE") is None


def test_bad_check_digits_are_named():
    assert message(ids.vat_number, "NL123456789B01", "NL") == (
        "NL123456789B01 is not a valid Dutch VAT number: the check digits do not match.")
    assert message(ids.vat_number, "DE 136 695 970", "DE") == (
        "DE 136 695 970 is not a valid German VAT number: the check digits do not match.")


def test_bad_length_and_format_are_named():
    assert "too many or too few characters" in message(ids.vat_number, "DE13669597", "DE")
    assert "not in the order" in message(ids.vat_number, "NL12", "NL")


def test_another_countrys_prefix_is_refused_with_the_right_one_named():
    assert message(ids.vat_number, "DE136695976", "NL") == (
        "DE136695976 begins with the code of German VAT numbers, but the company is in the "
        "Netherlands: give its Dutch VAT number, which begins with NL.")
    # Greece writes EL: GR is taken and stored as EL, and a Greek number is not German.
    assert ids.vat_number("GR094259216", "GR") == "EL094259216"
    assert ids.vat_number("094259216", "GR") == "EL094259216"
    assert "which begins with EL" in message(ids.vat_number, "DE136695976", "GR")


def test_vat_numbers_outside_the_eu():
    assert ids.vat_number("GB 980 7806 84", "UK") == "GB980780684"
    assert ids.vat_number("XI 980 7806 84", "UK") == "XI980780684"  # Northern Ireland
    assert ids.vat_number("CHE-107.787.577 IVA", "CH") == "CHE107787577IVA"
    assert ids.vat_number("NO 995 525 828 MVA", "NO") == "NO995525828MVA"
    # A country stdnum has no VAT module for keeps a loose rule.
    assert ids.vat_number("is 00621", "IS") == "IS00621"
    assert "4 to 20 letters and digits" in message(ids.vat_number, "IS1", "IS")


# --- registry numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("country", sorted(VALID))
def test_a_registry_number_or_the_vat_number_is_accepted(country):
    vat, number = VALID[country]
    assert ids.registry_number(number, country) == number
    assert ids.registry_number(vat.lower(), country) == vat


def test_registry_numbers_are_compact_as_stdnum_writes_them():
    assert ids.registry_number("3054 9511", "DK") == "30549511"
    # Typed with the VAT prefix, it is the VAT number, and kept as one.
    assert ids.registry_number("dk 3054 9511", "DK") == "DK30549511"
    assert ids.registry_number("Amtsgericht München HRB 63144", "DE") == "München HRB 63144"
    assert ids.registry_number("2741742-0", "FI") == "27417420"
    assert ids.registry_number("FN 122119m", "AT") == "122119m"
    assert ids.registry_number("J52/750/2012", "RO") == "J52/750/2012"
    # France: a SIREN or a SIRET.
    assert ids.registry_number("732 829 320 00074", "FR") == "73282932000074"


def test_a_bad_registry_number_names_what_the_country_expects():
    assert message(ids.registry_number, "3841 2290", "DK") == (
        "3841 2290 is not a valid Danish CVR number: the check digits do not match. Give "
        "the company's CVR number or its VAT number.")
    bad_vat = message(ids.registry_number, "DK 3841 2290", "DK")
    assert bad_vat.startswith("DK 3841 2290 is not a valid Danish VAT number: the check "
                              "digits do not match.")
    court = message(ids.registry_number, "HRB 12345", "DE")
    assert "not a valid German Handelsregisternummer" in court
    assert "such as München HRB 12345" in court
    # The check whose length fitted speaks: a 14-digit French number is a SIRET.
    assert "not a valid French SIRET number: the check digits" in message(
        ids.registry_number, "73282932000075", "FR")


def test_another_countrys_vat_number_is_not_a_registry_number():
    assert message(ids.registry_number, "NL436450306B01", "DE") == (
        "NL436450306B01 is a Dutch VAT number, but the company is in Germany: give its "
        "German Handelsregisternummer or VAT number.")


def test_countries_without_a_stdnum_module_keep_the_loose_rule():
    # The Netherlands' KvK, the UK's Companies House and Ireland's CRO numbers have no
    # check digits stdnum knows: letters and digits, upper case, 4 to 40 of them.
    assert ids.registry_number("nl 8520.91.234.b01", "NL") == "NL852091234B01"
    assert ids.registry_number("sc123456", "UK") == "SC123456"
    assert "4 to 40 letters and digits" in message(ids.registry_number, "12", "IE")
    assert message(ids.registry_number, " ", "NL") == "Give the VAT or company registry number."


# --- IBAN and BIC -------------------------------------------------------------------------


@pytest.mark.parametrize("country", sorted(IBANS))
def test_valid_ibans_and_bics_come_back_compact(country):
    iban, bic = IBANS[country]
    compact = iban.replace(" ", "")
    assert ids.iban(iban.lower()) == compact
    assert ids.formatted_iban(compact) == iban
    assert ids.bic(bic.lower(), compact) == bic


def test_bad_ibans_are_named():
    assert message(ids.iban, "DE89 3704 0044 0532 0130 01") == (
        "DE89 3704 0044 0532 0130 01 is not a valid IBAN: its check digits do not match.")
    assert message(ids.iban, "DE89 3704 0044 0532 0130") == (
        "DE89 3704 0044 0532 0130 is not a valid IBAN: an IBAN of Germany has 22 characters, "
        "this one 20.")
    assert "code of a country that uses IBANs" in message(ids.iban, "XX89370400440532013000")
    # The national check digits inside (Belgium's last two) are verified too.
    assert message(ids.iban, "BE57 0017 3177 8485") == (
        "BE57 0017 3177 8485 is not a valid IBAN: the check digits of the account number "
        "within it do not match.")
    assert message(ids.iban, "") == "Give the IBAN of the company's account."


def test_an_account_outside_sepa_is_refused():
    assert "outside the SEPA area" in message(ids.iban, "BR15 0000 0000 0000 1093 2840 814P2")


def test_bad_bics_are_named():
    assert ids.bic("", None) is None
    assert message(ids.bic, "COBADEF") == (
        "COBADEF is not a valid BIC: a BIC has 8 or 11 letters and digits.")
    assert "fifth and sixth letters are not a country code" in message(ids.bic, "COBAXXFF")
    assert "4 letters for the bank" in message(ids.bic, "1OBADEFF")


def test_the_bic_must_be_of_a_bank_in_the_ibans_country():
    assert message(ids.bic, "ABNANL2A", "DE85370400442940557216") == (
        "ABNANL2A is the BIC of a bank in the Netherlands, but the IBAN is of an account in "
        "Germany: give the BIC of the account's bank.")
    # Jersey's banks have their own BIC country but British IBANs.
    assert ids.bic("RBOSJESH", "GB82WEST12345698765432") == "RBOSJESH"


def test_a_bic_is_needed_outside_the_eea_only():
    assert not ids.bic_needed("DE85370400442940557216")
    assert ids.bic_needed("GB82WEST12345698765432")
    assert ids.bic_needed("CH9300762011623852957")


def text(response) -> str:
    return response.get_data(as_text=True)


def profile_data(org, **changes) -> dict:
    return {"legal_name": org.legal_name, "registry_number": org.registry_number,
            "vat_number": org.vat_number or "", "country": org.country, "region": org.region,
            "size": org.size, "sector": org.sector, **changes}


# --- VAT and registry numbers on the profile --------------------------------------------


def test_a_valid_vat_number_is_stored_compact(client, make):
    owner = make.applicant()
    org = owner.organisation
    login(client, owner)
    vat = VALID["NL"][0]
    response = client.post("/apply/profile", data=profile_data(
        org, vat_number=f"{vat[:2].lower()} {vat[2:5]}.{vat[5:]}"))
    assert response.status_code == 303
    db.session.expire_all()
    assert org.vat_number == vat


@pytest.mark.parametrize("vat, message", [
    ("NL123456789B01", "NL123456789B01 is not a valid Dutch VAT number: the check digits do "
     "not match."),
    ("DE539163168", "DE539163168 begins with the code of German VAT numbers, but the company "
     "is in the Netherlands: give its Dutch VAT number, which begins with NL."),
])
def test_a_bad_vat_number_gets_a_clear_message_and_changes_nothing(client, make, vat,
                                                                   message):
    owner = make.applicant()
    login(client, owner)
    before = snapshot()
    response = client.post("/apply/profile", data=profile_data(owner.organisation,
                                                               vat_number=vat))
    assert response.status_code == 422
    assert message in text(response)
    assert snapshot() == before


def test_a_stored_number_that_would_not_pass_keeps_working_until_edited(client, make):
    # Stored before the checks: a German company with a number no German check accepts.
    owner = make.applicant(country="DE", region="Bavaria")
    org = owner.organisation
    old_number = org.registry_number
    login(client, owner)
    response = client.post("/apply/profile", data=profile_data(org, region="Swabia"))
    assert response.status_code == 303
    db.session.expire_all()
    assert (org.region, org.registry_number) == ("Swabia", old_number)
    before = snapshot()
    response = client.post("/apply/profile", data=profile_data(
        org, registry_number="HRB 12345"))
    assert response.status_code == 422
    assert "is not a valid German Handelsregisternummer" in text(response)
    assert snapshot() == before
    response = client.post("/apply/profile", data=profile_data(
        org, registry_number="Amtsgericht München HRB 63144"))
    assert response.status_code == 303
    db.session.expire_all()
    assert org.registry_number == "München HRB 63144"


def test_the_vat_number_may_be_added_after_submitting_but_not_changed(client, make):
    owner = make.applicant()
    make.application("submitted", applicant=owner)
    org = owner.organisation
    login(client, owner)
    page = " ".join(text(client.get("/apply/profile")).split())
    assert "update the company size and sector, and add its VAT number." in page
    assert not re.search(r'<input[^>]*\bdisabled\b[^>]*name="vat_number"', page)
    vat = VALID["NL"][0]
    assert client.post("/apply/profile", data=profile_data(org, vat_number=vat)).status_code \
        == 303
    db.session.expire_all()
    assert org.vat_number == vat
    page = text(client.get("/apply/profile"))
    assert re.search(r'<input[^>]*\bdisabled\b[^>]*name="vat_number"', page)
    # A crafted request's new value is ignored: the field is frozen now.
    response = client.post("/apply/profile", data=profile_data(org,
                                                               vat_number="NL067203619B01"))
    assert response.status_code == 303
    db.session.expire_all()
    assert org.vat_number == vat


def test_a_manager_corrects_the_vat_number_and_the_history_shows_it(client, make):
    owner = make.applicant()
    org = owner.organisation
    manager = make.manager()
    login(client, manager)
    data = {**profile_data(org), "reason": "Register extract of 3 March."}
    response = client.post(f"/manage/organisations/{org.id}",
                           data={**data, "vat_number": "NL123456789B01"})
    assert response.status_code == 422
    assert "not a valid Dutch VAT number" in text(response)
    response = client.post(f"/manage/organisations/{org.id}",
                           data={**data, "vat_number": VALID["NL"][0]})
    assert response.status_code == 303
    db.session.expire_all()
    assert org.vat_number == VALID["NL"][0]
    page = text(client.get(f"/manage/organisations/{org.id}"))
    assert f"VAT number: (none) → {VALID['NL'][0]}" in page.split('id="history-heading"')[1]
    listing = text(client.get("/manage/organisations", query_string={"q": "436450306"}))
    assert org.legal_name in listing and f"<td>{VALID['NL'][0]}</td>" in listing


def test_a_caller_that_does_not_give_the_vat_number_keeps_it(make):
    owner = make.applicant()
    org = owner.organisation
    org.vat_number = VALID["NL"][0]
    db.session.commit()
    fields = {k: v for k, v in profile_data(org, region="Limburg").items() if k != "vat_number"}
    correct_organisation(org, make.manager(), reason="Moved.", **fields)
    db.session.commit()
    assert (org.region, org.vat_number) == ("Limburg", VALID["NL"][0])
    # Given empty, it is removed.
    correct_organisation(org, make.manager(), reason="Not registered for VAT.",
                         **{**fields, "vat_number": ""})
    db.session.commit()
    assert org.vat_number is None
