"""Money in a partner's currency: payments transferred in GBP and booked in EUR at the
InforEuro rate of their month (kept with the payment, whatever is imported later), the
last coin's tolerance, and final reports in DKK converted at the month of submission."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import login, snapshot
from tests.ledger_checks import assert_books_balance
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import AuditRecord, CallVoucherType, Payment
from vouchers.services import payments, rate_import, rates, reporting, settlement
from vouchers.services.rates import MissingRate

DATA = Path(__file__).resolve().parent.parent / "vouchers" / "data" / "inforeuro"
TRAVEL = {"travel": (12, "5000", "1.00", "60000")}
GBP_RATE, DKK_RATE = Decimal("0.8662"), Decimal("7.4661")  # the shipped December file


def import_month(year: int, month: int, source: str = "2026-12.json", **changes) -> None:
    """The shipped file's rates (with ``changes``: {"GBP": 0.87}) as the given month's."""
    rows = json.loads((DATA / source).read_text())
    for row in rows:
        row["value"] = changes.get(row["isoA3Code"], row["value"])
    rate_import.import_rates(rate_import.parse_rates(rows), year, month)
    db.session.commit()


def this_month(**changes) -> None:
    import_month(today().year, today().month, **changes)


@pytest.fixture
def manager(make):
    return make.manager()


def voucher(make, manager, currency: str, award: str, costs: str = "4000") -> object:
    """A voucher of an SME whose partner keeps its books in ``currency``: awarded
    ``award`` EUR, its actual costs reported and its payments made in the currency."""
    call = make.call(TRAVEL)
    make.partner(call.programme, f"{currency} agency", "NL", currency,
                 regions=[("NL", "North Brabant", "NL41")])
    cvt: CallVoucherType = call.voucher_type("travel")
    application = make.application("awarded", cvt, manager=manager, requested=award,
                                   costs=costs)
    assert application.currency == currency
    return application


def completed(make, manager, currency: str, award: str, costs: str = "4000"):
    """Awarded, reported with ``costs`` in the currency (submitted this month), approved."""
    application = voucher(make, manager, currency, award, costs)
    reporting.start_reporting(application, application.applicant)
    reporting.save_final_report(application, application.applicant, summary="Trip made.",
                                actual_costs=costs)
    reporting.submit_final_report(application, application.applicant)
    reporting.approve_report(application, manager)
    db.session.commit()
    assert application.state == "completed"
    return application


def pay_gbp(application, manager, gbp: str, reference: str = "BACS-1") -> Payment:
    payment = payments.record_payment(application, manager, amount_in_currency=gbp,
                                      paid_on=today(), reference=reference)
    db.session.commit()
    return payment


def test_a_payment_in_gbp_is_booked_in_eur_at_its_months_rate_rounded_once(make, manager):
    this_month()
    application = completed(make, manager, "GBP", "1500")
    payment = pay_gbp(application, manager, "100.00")
    # 100.00 / 0.8662 = 115.446779...: rounded once, half up, to the cent.
    assert payment.amount == Decimal("115.45") == rates.to_eur(Decimal("100"), GBP_RATE)
    assert (payment.currency, payment.amount_in_currency, payment.rate) == (
        "GBP", Decimal("100.00"), GBP_RATE)
    assert (payment.rate_year, payment.rate_month) == (today().year, today().month)
    assert application.paid_amount == Decimal("115.45")
    assert application.state == "completed"  # a part of what is due
    assert_books_balance()


def test_a_recorded_payment_keeps_its_eur_amount_whatever_is_imported_later(make, manager):
    this_month()
    application = completed(make, manager, "GBP", "1500")
    payment = pay_gbp(application, manager, "856.30")
    booked = (payment.amount, payment.rate, application.paid_amount)
    assert booked[0] == Decimal("988.57")

    # The Commission corrects this month's file, and next month's arrives.
    this_month(GBP=0.8801)
    following = (today().year + today().month // 12, today().month % 12 + 1)
    import_month(*following, GBP=0.8423)
    db.session.expire_all()
    assert rates.rate_on("GBP", today()).units_per_eur == Decimal("0.8801")
    assert (payment.amount, payment.rate, application.paid_amount) == booked
    assert payment.amount_in_currency == Decimal("856.30")
    assert_books_balance()


def test_a_missing_rate_refuses_the_payment_naming_month_and_currency(make, manager):
    this_month()
    application = completed(make, manager, "GBP", "1500")
    db.session.execute(db.delete(rate_import.ExchangeRate).where(
        rate_import.ExchangeRate.currency == "GBP"))
    db.session.commit()
    before = snapshot()
    with pytest.raises(MissingRate) as refused:
        pay_gbp(application, manager, "100.00")
    db.session.rollback()
    assert f"No InforEuro rate for GBP in {today():%B %Y}" in refused.value.message
    assert "import-rates" in refused.value.message
    assert snapshot() == before


def test_more_than_is_due_is_refused_with_both_amounts(make, manager):
    this_month()
    application = completed(make, manager, "GBP", "1000")
    with pytest.raises(payments.PaymentRefused) as refused:
        pay_gbp(application, manager, "866.30")  # 1,000.12 EUR
    assert refused.value.message.startswith(
        f"866.30 GBP (€1,000.12 at the InforEuro rate of {today():%B %Y}, 0.8662 GBP per EUR)")
    assert "is more than the €1,000.00 still payable" in refused.value.message


def last_transfer(due: Decimal, rate: Decimal) -> Decimal:
    """The largest amount of the currency whose EUR value is not above ``due``."""
    amount = (due * rate).quantize(Decimal("0.01"))
    while rates.to_eur(amount, rate) > due:
        amount -= Decimal("0.01")
    return amount


def test_a_transfer_within_one_coin_of_the_due_pays_the_voucher_in_full(make, manager):
    this_month()
    # At 0.8662 GBP per EUR a penny is 1.15 cents: no GBP amount is worth €1,000.04
    # (866.23 GBP is €1,000.03, 866.24 GBP €1,000.05), so the last penny settles it.
    application = completed(make, manager, "GBP", "1000.04")
    assert settlement.final_due(application) == Decimal("1000.04")
    gbp = last_transfer(Decimal("1000.04"), GBP_RATE)
    assert (gbp, rates.to_eur(gbp, GBP_RATE)) == (Decimal("866.23"), Decimal("1000.03"))
    payment = pay_gbp(application, manager, str(gbp))
    assert application.state == "paid"
    # The ledger books what was due, the payment keeps what was transferred and its rate.
    assert payment.amount == application.paid_amount == Decimal("1000.04")
    assert (payment.amount_in_currency, payment.rate) == (Decimal("866.23"), GBP_RATE)
    assert settlement.final_due(application) == 0
    closing = db.session.scalar(db.select(AuditRecord).where(
        AuditRecord.application_id == application.id, AuditRecord.trigger == "pay"))
    assert closing.comment == ("Paid in full (BACS-1). 866.23 GBP came €0.01 short of the "
                               "due, less than 0.01 GBP: settled in full.")
    assert_books_balance()


def test_a_shortfall_of_a_coin_or_more_stays_due(make, manager):
    this_month()
    application = completed(make, manager, "GBP", "1000.04")
    pay_gbp(application, manager, "866.22")  # €1,000.02: 866.23 GBP would come closer
    assert application.state == "completed"
    assert settlement.final_due(application) == Decimal("0.02")


def test_a_eur_payment_of_a_gbp_voucher_still_books_euros(make, manager):
    """A SEPA batch pays in EUR: no rate needed, none kept."""
    application = completed_without_rates(make, manager)
    payment = payments.record_payment(application, manager, Decimal("200.00"),
                                      paid_on=today(), reference="SEPA-1")
    assert (payment.amount, payment.currency, payment.rate) == (Decimal("200.00"), "EUR", None)


def completed_without_rates(make, manager):
    this_month()
    application = completed(make, manager, "GBP", "1500")
    db.session.execute(db.delete(rate_import.ExchangeRate))
    db.session.commit()
    return application


def test_a_reversal_shows_the_transfer_in_the_currency(make, manager, client):
    this_month()
    application = completed(make, manager, "GBP", "1500")
    payment = pay_gbp(application, manager, "100.00")
    payments.reverse_payment(payment, manager, "The bank returned it.")
    db.session.commit()
    assert application.paid_amount == 0
    login(client, manager)
    page = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert "100.00 GBP at 0.8662 GBP/EUR" in page
    assert "(−100.00 GBP, −€115.45)" in page
    assert_books_balance()


def test_the_manager_types_the_amount_in_the_vouchers_currency(make, manager, client):
    this_month()
    application = completed(make, manager, "GBP", "1500")
    login(client, manager)
    page = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert "Amount transferred (GBP)" in page
    assert "€1,500.00 is about 1,299.30 GBP at the" in page
    response = client.post(
        f"/manage/applications/{application.id}/actions/record_payment",
        data={"record_payment-amount": "1299.30", "record_payment-paid_on": today().isoformat(),
              "record_payment-reference": "BACS-7", "record_payment-kind": "payment"})
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    assert application.state == "paid"
    payment = db.session.scalar(db.select(Payment))
    assert (payment.amount, payment.amount_in_currency) == (Decimal("1500.00"),
                                                          Decimal("1299.30"))
    page = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert "1,299.30 GBP at" in page


# --- final reports in the partner's currency --------------------------------------------


def test_a_final_report_in_dkk_converts_at_the_month_of_submission(make, manager, client):
    this_month()
    application = voucher(make, manager, "DKK", "1500", costs="20000")
    reporting.start_reporting(application, application.applicant)
    reporting.save_final_report(application, application.applicant, summary="Done.",
                                actual_costs="7466.10")
    db.session.commit()
    report = reporting.final_report_of(application)
    assert (report.currency, report.costs_in_currency, report.actual_costs) == (
        "DKK", Decimal("7466.10"), None)
    reporting.submit_final_report(application, application.applicant)
    db.session.commit()
    # 7,466.10 DKK / 7.4661 = 1,000.00 EUR: what the payable amount reads.
    assert (report.rate, report.actual_costs) == (DKK_RATE, Decimal("1000.00"))
    reporting.approve_report(application, manager)
    db.session.commit()
    assert settlement.payable(application) == Decimal("1000.00")

    this_month(DKK=7.5)  # a corrected file changes nothing recorded
    db.session.expire_all()
    assert (report.rate, report.actual_costs) == (DKK_RATE, Decimal("1000.00"))

    login(client, manager)
    page = client.get(f"/manage/applications/{application.id}").get_data(as_text=True)
    assert "7,466.10 DKK" in page and "€1,000.00" in page and "7.4661 DKK per EUR" in page
    # The planned cost lines stay in EUR, like the request they justify.
    assert "€20,000.00" in page and "20,000.00 DKK" not in page


def test_a_missing_rate_blocks_the_submission_of_the_report(make, manager):
    application = voucher(make, manager, "DKK", "1500", costs="20000")
    reporting.start_reporting(application, application.applicant)
    reporting.save_final_report(application, application.applicant, summary="Done.",
                                actual_costs="7466.10")
    db.session.commit()
    with pytest.raises(MissingRate, match=f"No InforEuro rate for DKK in {today():%B %Y}"):
        reporting.submit_final_report(application, application.applicant)
    db.session.rollback()
    assert application.state == "reporting"
    assert reporting.final_report_of(application).actual_costs is None


def test_the_applicant_gives_the_costs_in_the_partners_currency(make, manager, client):
    this_month()
    application = voucher(make, manager, "DKK", "1500", costs="20000")
    reporting.start_reporting(application, application.applicant)
    db.session.commit()
    login(client, application.applicant)
    url = f"/apply/applications/{application.id}/report"
    page = client.get(url).get_data(as_text=True)
    assert "Actual eligible costs (DKK)" in page
    response = client.post(url, data={"summary": "Done.", "actual_costs": "7466.10",
                                      "submit_report": "1"})
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    report = reporting.final_report_of(application)
    assert (report.costs_in_currency, report.actual_costs) == (Decimal("7466.10"),
                                                             Decimal("1000.00"))
    page = client.get(url).get_data(as_text=True)
    assert "7,466.10 DKK" in page and "€1,000.00" in page


# --- the programme's rate rule ----------------------------------------------------------


def test_the_programme_form_chooses_the_month_whose_rate_converts(client, make, manager):
    from tests.test_manager_calls import form_fields, page
    from vouchers.models import Programme

    call = make.call()
    login(client, manager)
    url = f"/manage/programmes/{call.programme_id}/edit"
    shown = page(client.get(url))
    assert "the month it submits its partner report" in shown
    fields = form_fields(shown)
    assert fields["rate_rule"] == "submission"
    assert client.post(url, data={**fields, "rate_rule": "payment"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Programme, call.programme_id).rate_rule == "payment"
    before = snapshot()
    response = client.post(url, data={**fields, "rate_rule": "invoice"})
    assert response.status_code == 400
    assert snapshot() == before
