"""The demo programme is run by a consortium (issue 11, item 5).

After `flask demo`: the partners of the real programme with their regions, NUTS codes and
currencies; every application under the partner of its company's region; a manager per
partner who logs in with the documented password and reaches only their own SMEs; the
InforEuro rates the GBP and DKK amounts are converted at; the UK partner's first period
submitted, and its second a draft holding the correction of the first.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests import demo_support
from tests.helpers import login, logout
from vouchers.clock import local_date
from vouchers.demo import DEMO_PASSWORDS
from vouchers.demo.consortium import MEMBERS, SAMPLE_RATES
from vouchers.extensions import db
from vouchers.models import (
    Application,
    Assignment,
    ExchangeRate,
    FinalReport,
    Partner,
    PartnerReport,
    Payment,
    User,
)
from vouchers.models.base import utcnow
from vouchers.policy_partners import region_key_of
from vouchers.services import partner_reports, settlement
from vouchers.services.rates import to_eur

# What the real programme's partners are, as the Commission's NUTS codes name their regions.
EXPECTED = {
    "Biocat": ("EUR", {("ES", "Catalonia", "ES51")}),
    "Brabant Development Agency": ("EUR", {("NL", "North Brabant", "NL41")}),
    "East Netherlands Development Agency": ("EUR", {("NL", "Gelderland and Overijssel",
                                                     "NL2")}),
    "Biopeople": ("DKK", {("DK", "Capital Region of Denmark", "DK01")}),
    "BioRegio STERN Management": ("EUR", {("DE", "Baden-Wuerttemberg", "DE1")}),
    "GM Business Support": ("GBP", {("UK", "Greater Manchester", "UKD3")}),
    "Kent County Council": ("GBP", {("UK", "Kent", "UKJ4")}),
    "Eurasante": ("EUR", {("FR", "Hauts-de-France", "FRE")}),
    "ID2Sante": ("EUR", {("FR", "Brittany", "FRH0")}),
    "University of Liege": ("EUR", {("BE", "Wallonia", "BE3")}),
    "BIO.NRW": ("EUR", {("DE", "North Rhine-Westphalia", "DEA")}),
    "Enterprise Ireland": ("EUR", {("IE", "Southern Region", "IE05")}),
}


# The module reads one demo programme, loaded once (tests/demo_support.py).
app, demo, _demo_loaded = demo_support.app, demo_support.demo, demo_support.demo_loaded


def _partners() -> dict[str, Partner]:
    return {p.name: p for p in db.session.scalars(select(Partner))}


def test_the_partners_of_the_real_programme_with_their_regions_and_currencies(demo):
    partners = _partners()
    assert {name: (p.currency, {(r.country, r.region, r.nuts_code) for r in p.regions})
            for name, p in partners.items()} == EXPECTED
    assert [name for name, p in partners.items() if p.is_lead] == ["Biocat"]
    # Every region of the call is a partner's, and every application is under the
    # partner of its company's region, in that partner's currency; the vouchers the
    # story awarded before the partners were set up stay in EUR.
    covered = {(r.country, r.region) for p in partners.values() for r in p.regions}
    assert {tuple(region) for region in demo.programme.regions} == covered
    for application in db.session.scalars(select(Application)):
        partner = db.session.get(Partner, application.partner_id)
        org = application.organisation
        assert any(r.country == org.country and r.region_key == region_key_of(org.region)
                   for r in partner.regions), application.reference
        story_voucher = application.awarded_at is not None and application.currency == "EUR"
        assert story_voucher or application.currency == partner.currency, application.reference
    currencies = set(db.session.scalars(select(Application.currency)))
    assert currencies == {"EUR", "GBP", "DKK"}


def test_each_partner_has_a_manager_who_logs_in_and_reaches_only_its_smes(demo, client):
    partners = _partners()
    for member in MEMBERS:
        manager = db.session.scalar(select(User).where(User.email == member.email))
        assert manager.role == "manager" and manager.partner_id == partners[member.name].id
        response = client.post("/account/login", data={
            "email": member.email, "password": DEMO_PASSWORDS["manager"]})
        assert response.status_code == 303, member.email
        client.post("/account/logout")
    own = db.session.scalars(select(Application).where(
        Application.partner_id == partners["Biopeople"].id)).all()
    other = db.session.scalars(select(Application).where(
        Application.partner_id == partners["Kent County Council"].id)).all()
    assert own and other
    biopeople = db.session.scalar(select(User).where(
        User.email == "manager.biopeople@demo.example"))
    login(client, biopeople)
    for application in own:
        page = client.get(f"/manage/applications/{application.id}")
        assert page.status_code == 200 and application.reference in page.get_data(as_text=True)
    for application in other:
        assert client.get(f"/manage/applications/{application.id}").status_code == 404
        assert client.get(
            f"/manage/organisations/{application.organisation_id}").status_code == 404
    # The table lists what was submitted (a draft is the applicant's own): theirs only.
    listing = client.get("/manage/applications?per_page=100").get_data(as_text=True)
    assert all(a.reference in listing for a in own if a.state != "draft")
    assert not any(a.reference in listing for a in other)
    logout(client)
    # The lead partner's manager sees the other partners' SMEs too.
    lead = db.session.scalar(select(User).where(User.email == "manager@demo.example"))
    login(client, lead)
    for application in other:
        assert client.get(f"/manage/applications/{application.id}").status_code == 200


def test_evaluators_of_a_partner_never_assessed_its_smes(demo):
    assert demo.evaluators_from_other_partners
    with_partner = db.session.scalars(select(User).where(
        User.role == "evaluator", User.partner_id.is_not(None))).all()
    assert len(with_partner) == 2
    own = db.session.scalar(select(func.count()).select_from(Assignment).join(
        Application, Application.id == Assignment.application_id).join(
        User, User.id == Assignment.evaluator_id).where(
        User.partner_id == Application.partner_id))
    assert own == 0


def test_the_rates_of_every_month_of_the_programme_are_the_sample_files(demo):
    """Imported from vouchers/data/inforeuro/, as `flask import-rates` would."""
    programme = demo.programme
    months = set(db.session.execute(select(ExchangeRate.year, ExchangeRate.month)))
    first, today = programme.starts_on, local_date(utcnow())
    assert {(first.year, first.month), (today.year, today.month)} <= months
    for year, month in months:
        sample = {row["isoA3Code"]: Decimal(str(row["value"])) for row in json.loads(
            (SAMPLE_RATES / f"2026-{month:02d}.json").read_text())}
        stored = dict(db.session.execute(select(
            ExchangeRate.currency, ExchangeRate.units_per_eur).where(
            ExchangeRate.year == year, ExchangeRate.month == month)).all())
        assert stored == sample and {"GBP", "DKK"} <= set(stored)


def test_the_uk_partner_submitted_its_first_period_and_the_correction_is_in_the_next(demo):
    gm = _partners()["GM Business Support"]
    reports = partner_reports.reports_of(gm)
    assert [(r.number, r.status) for r in reports] == [(1, "submitted"), (2, "draft")]
    first, second = reports
    assert first.period_start == demo.programme.starts_on
    assert second.period_start == first.period_end + timedelta(days=1)
    manager = db.session.scalar(select(User).where(User.email == "manager.gm@demo.example"))
    assert first.submitted_by_id == manager.id
    assert first.submitted_at < utcnow() - timedelta(hours=12)
    # Period 1 declared the advance; the bank returned it after the submission, so the
    # reversal is a correction of period 2, beside the advance sent again and the balance.
    (advance,) = partner_reports.report_lines(first).lines
    assert "Advance" in advance.description and advance.total_value > 0
    assert partner_reports.draft_of(gm) == second
    lines = partner_reports.report_lines(second).lines
    corrections = [line for line in lines if line.correction]
    assert len(corrections) == 1 and corrections[0].total_value == -advance.total_value
    assert "Correction: reversal of the advance" in corrections[0].description
    voucher = advance.internal_reference.split(" / ")[0]
    own = [line for line in lines if line.internal_reference.startswith(voucher)]
    assert [line.total_value > 0 for line in own] == [False, True, True]
    # Every other partner has reported nothing yet.
    assert db.session.scalar(select(func.count()).select_from(PartnerReport)) == 2


def test_a_gbp_and_a_dkk_voucher_reported_and_paid_in_their_currency_at_stored_rates(demo):
    for currency, partner in (("GBP", "GM Business Support"), ("DKK", "Biopeople")):
        paid = db.session.scalars(select(Payment).join(Application).where(
            Payment.currency == currency).order_by(Payment.id)).all()
        assert {p.kind for p in paid} == {"advance", "payment"}, currency
        (voucher,) = {p.application for p in paid}
        assert voucher.state == "paid" and voucher.currency == currency
        assert voucher.partner_id == _partners()[partner].id
        assert db.session.get(User, paid[-1].recorded_by_id).partner_id == voucher.partner_id
        for payment in paid:
            # The rate of the month of payment, as imported, and the EUR it booked.
            stored = db.session.scalar(select(ExchangeRate.units_per_eur).where(
                ExchangeRate.currency == currency, ExchangeRate.year == payment.paid_on.year,
                ExchangeRate.month == payment.paid_on.month))
            assert (payment.rate_year, payment.rate_month) == (payment.paid_on.year,
                                                               payment.paid_on.month)
            assert payment.rate == stored
            # Within a coin of the currency of the EUR converted (a coin short settles).
            assert abs(payment.amount - to_eur(payment.amount_in_currency, stored)) <= (
                Decimal("0.01"))
        report = db.session.scalar(select(FinalReport).where(
            FinalReport.application_id == voucher.id))
        assert report.currency == currency and report.costs_in_currency > 0
        submitted = local_date(report.submitted_at)
        assert report.rate == db.session.scalar(select(ExchangeRate.units_per_eur).where(
            ExchangeRate.currency == currency, ExchangeRate.year == submitted.year,
            ExchangeRate.month == submitted.month))
        assert report.actual_costs == to_eur(report.costs_in_currency, report.rate)
        assert voucher.paid_amount == settlement.payable(voucher)
        # The SME agreed to the public list of operations (Art. 49).
        assert voucher.publication_consent
