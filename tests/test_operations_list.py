"""The public list of operations (CPR Art. 49): who is listed, with what, in which form."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from flask import current_app

from tests.helpers import count_queries, login, logout
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Partner, PartnerRegion
from vouchers.services import transitions

PAGES = ("public.operations_page", "public.operations_csv_file", "public.operations_json_file")
SELECTED = ("awarded", "reporting", "report_submitted", "completed", "paid")
UNSELECTED = ("draft", "submitted", "under_review", "returned", "withdrawn", "rejected",
              "waitlisted", "cancelled")


def url_for(endpoint: str, **args) -> str:
    from flask import url_for as build

    with current_app.test_request_context():
        return build(endpoint, **args)


def partner(call, *, name="Brabant Development Agency", country="NL",
            region="North Brabant", nuts="NL41", currency="EUR") -> Partner:
    p = Partner(programme_id=call.programme_id, name=name, country=country,
                currency=currency)
    p.regions.append(PartnerRegion(programme_id=call.programme_id, country=country,
                                   region=region, region_key=region.casefold(),
                                   nuts_code=nuts))
    db.session.add(p)
    db.session.commit()
    return p


def voucher(make, state="awarded", cvt=None, *, consent=True, title=None, **kwargs):
    """An application in ``state``, with the consent given (or not) at its submission."""
    a = make.application(state, cvt, **kwargs)
    a.publication_consent = consent
    if title is not None:
        a.title = title
    db.session.commit()
    return a


def fetch(client, endpoint="public.operations_json_file", **args):
    response = client.get(url_for(endpoint, **args))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def listed(client, **args) -> list[dict]:
    return json.loads(fetch(client, **args))


def csv_rows(client, **args) -> list[list[str]]:
    return list(csv.reader(io.StringIO(fetch(client, "public.operations_csv_file", **args),
                                       newline="")))


def test_a_voucher_is_published_with_only_the_listed_fields(app, client, make):
    call = make.call()
    partner(call)
    a = voucher(make, cvt=call.voucher_type("market_validation"), costs="2000.00",
                amount="1234.50", title="Market study for a sepsis test")
    (row,) = listed(client)
    assert row == {
        "programme": call.programme.name, "partner": "Brabant Development Agency",
        "reference": a.reference, "beneficiary": a.organisation.legal_name,
        "operation_name": "Market study for a sepsis test",
        "purpose": "Market validation voucher",
        "start_date": today().isoformat(), "end_date": "2027-06-30",
        "total_cost_eur": "2000.00", "cofinancing_rate_percent": "75.00",
        "amount_eur": "1234.50", "region": "North Brabant", "nuts_code": "NL41",
        "country": "NL", "list_date": today().isoformat(),
    }
    header, data = csv_rows(client)
    assert header[:4] == ["Programme", "Partner", "Voucher reference", "Beneficiary"]
    assert data[header.index("Voucher amount: awarded less what was released (EUR)")] == "1234.50"
    assert data[header.index("NUTS code")] == "NL41"


def test_no_personal_data_in_the_page_csv_or_json(app, client, make):
    call = make.call()
    applicant = make.applicant()
    org = applicant.organisation
    org.vat_number, org.iban, org.bic = "NL123456789B01", "NL91ABNA0417164300", "ABNANL2A"
    org.account_holder = "Johanna de Vries"
    applicant.name, applicant.email = "Johanna de Vries", "johanna.devries@sme.example"
    db.session.commit()
    a = voucher(make, cvt=call.voucher_type("market_validation"), applicant=applicant,
                title="A sepsis test")
    personal = (applicant.name, applicant.email, "johanna", org.vat_number, org.iban,
                org.bic, org.registry_number, "123456789")
    for endpoint in PAGES:
        body = fetch(client, endpoint)
        assert org.legal_name in body and a.reference in body
        for value in personal:
            assert value.casefold() not in body.casefold(), (endpoint, value)


def test_only_selected_vouchers_whose_applicant_agreed(app, client, make):
    call = make.call()
    cvt = call.voucher_type("travel")
    shown = {voucher(make, state, cvt, title=f"Shown {state}").title for state in SELECTED}
    hidden = [voucher(make, state, cvt, title=f"Hidden {state}") for state in UNSELECTED]
    hidden.append(voucher(make, "awarded", cvt, consent=False, title="Hidden no consent"))
    assert {r["operation_name"] for r in listed(client)} == shown
    for endpoint in PAGES:
        body = fetch(client, endpoint)
        for a in hidden:
            assert a.title not in body and a.reference not in body


def test_the_list_is_live(app, client, make):
    manager = make.manager()
    a = voucher(make, "under_review", manager=manager, title="Awaiting the decision")
    assert listed(client) == []
    transitions.award(a, manager, a.requested_amount)
    db.session.commit()
    assert [r["reference"] for r in listed(client)] == [a.reference]
    transitions.cancel(a, manager, "Given up.")
    db.session.commit()
    assert listed(client) == []
    assert "Awaiting the decision" not in fetch(client, "public.operations_page")


@pytest.mark.parametrize("title", ["=HYPERLINK(\"http://x.example\",\"a\")", "+1+2",
                                   "-3", "@SUM(A1)", "\tTabbed", "\rReturn"])
def test_formula_like_titles_are_neutralised_in_the_csv(app, client, make, title):
    voucher(make, title=title)
    header, data = csv_rows(client)
    cell = data[header.index("Operation")]
    assert cell.startswith("'") and cell[1:] in (title, title.replace("\r", "\n"))
    # JSON is not a spreadsheet: it carries the title as typed.
    assert listed(client)[0]["operation_name"] == title


def test_json_amounts_are_exact_decimal_strings(app, client, make):
    call = make.call()
    partner(call)
    voucher(make, cvt=call.voucher_type("impact"), costs="2469.01", amount="0.10")
    (row,) = listed(client)
    assert (row["total_cost_eur"], row["amount_eur"]) == ("2469.01", "0.10")
    assert row["cofinancing_rate_percent"] == "50.00"
    header, data = csv_rows(client)
    assert data[header.index("Planned total cost (EUR)")] == "2469.01"


def test_a_partner_in_another_currency_publishes_eur_as_entered(app, client, make):
    # Cost lines and awards are in EUR whatever the partner's currency (that is the final
    # report's and the payments'): no rate is needed, none is applied.
    call = make.call()
    partner(call, name="Copenhagen Business Hub", country="DK", region="Capital Region",
            nuts="DK01", currency="DKK")
    dane = make.applicant(country="DK", region="Capital Region")
    a = voucher(make, cvt=call.voucher_type("impact"), applicant=dane, costs="1000.00",
                amount="250.00")
    assert a.currency == "DKK"
    (row,) = listed(client)
    assert (row["total_cost_eur"], row["amount_eur"]) == ("1000.00", "250.00")
    assert (row["region"], row["nuts_code"], row["country"]) == ("Capital Region", "DK01",
                                                                 "DK")
    assert row["partner"] == "Copenhagen Business Hub"


def test_released_money_is_not_published(app, client, make):
    manager = make.manager()
    a = voucher(make, "awarded", manager=manager, amount="1000.00")
    a.released_amount = Decimal("250.00")  # as a close-out below the award leaves it
    db.session.commit()
    (row,) = listed(client)
    assert row["amount_eur"] == "750.00"


def test_no_partner_region_leaves_region_and_nuts_blank(app, client, make):
    voucher(make)
    (row,) = listed(client)
    assert (row["region"], row["nuts_code"], row["partner"]) == ("", "", "")
    assert row["country"] == "NL"


def test_a_programme_filter(app, client, make):
    first, second = make.call(), make.call()
    a = voucher(make, cvt=first.voucher_type("travel"))
    b = voucher(make, cvt=second.voucher_type("travel"))
    assert {r["reference"] for r in listed(client)} == {a.reference, b.reference}
    only = listed(client, programme=second.programme_id)
    assert [r["reference"] for r in only] == [b.reference]
    page = fetch(client, "public.operations_page", programme=second.programme_id)
    assert b.reference in page and a.reference not in page
    assert client.get(url_for("public.operations_page", programme=999999)).status_code == 404


def test_the_page_reads_a_fixed_number_of_queries(app, client, make):
    call = make.call()
    partner(call)
    voucher(make, cvt=call.voucher_type("travel"))
    few, _ = count_queries(client, url_for("public.operations_page"))
    for _ in range(4):
        voucher(make, cvt=call.voucher_type("travel"))
    many, page = count_queries(client, url_for("public.operations_page"))
    assert many == few and "5 operations" in page


def test_the_files_say_what_they_are(app, client, make):
    voucher(make, title="Liège: a sepsis test")
    csv_file = client.get(url_for("public.operations_csv_file"))
    assert csv_file.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert csv_file.data.startswith(b"Programme,") and "Liège".encode() in csv_file.data
    json_file = client.get(url_for("public.operations_json_file"))
    assert json_file.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(json_file.data)[0]["operation_name"] == "Liège: a sepsis test"


def test_the_list_is_linked_from_every_page(app, client, make):
    assert url_for("public.operations_page") in fetch(client, "public.index")


def test_consent_is_asked_and_stored_at_each_submission(app, client, make):
    cvt = make.call().voucher_type("travel")
    a = make.draft(cvt)
    login(client, a.applicant)
    page = fetch(client, "applicant.application", application_id=a.id)
    assert "Article 49" in page and 'name="publication_consent"' in page
    assert "checked" not in page.split('name="publication_consent"')[1].split(">")[0]

    client.post(url_for("applicant.submit", application_id=a.id),
                data={"publication_consent": "y"})
    db.session.refresh(a)
    assert (a.state, a.publication_consent) == ("submitted", True)
    assert "you agreed" in fetch(client, "applicant.application", application_id=a.id)

    transitions.return_for_changes(a, make.manager(), "Add the quote.")
    db.session.commit()
    page = fetch(client, "applicant.application", application_id=a.id)
    assert "checked" not in page.split('name="publication_consent"')[1].split(">")[0]
    client.post(url_for("applicant.submit", application_id=a.id), data={})
    db.session.refresh(a)
    assert (a.state, a.publication_consent) == ("submitted", False)
    assert "you did not agree" in fetch(client, "applicant.application", application_id=a.id)
    logout(client)
