"""Partner reports: periods one after the other, frozen once submitted, corrections in the
next period, amounts in a partner's currency converted per line by the programme's rule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.helpers import count_queries, login
from tests.jobs_support import post_and_download
from vouchers.clock import local_date, today
from vouchers.extensions import db
from vouchers.models import ExchangeRate, ExpenditureLine, PartnerReport, Payment
from vouchers.models.base import utcnow
from vouchers.services import partner_reports as reports
from vouchers.services import payments, settlement
from vouchers.services.errors import ConcurrentChange
from vouchers.services.partner_reports import COST_CATEGORY, ReportRefused
from vouchers.services.rates import MissingRate, to_eur


def consortium(make, rule: str = "submission"):
    """A programme with a lead partner (NL) and a Danish partner paying in DKK."""
    call = make.call()
    call.programme.rate_rule = rule
    lead = make.partner(call.programme, "Lead Agency", "NL", "EUR",
                        regions=[("NL", "North Brabant", "NL41")], is_lead=True)
    west = make.partner(call.programme, "West Agency", "DK", "DKK",
                        regions=[("DK", "Capital Region", "DK01")])
    db.session.commit()
    return call, lead, west, make.manager(), make.manager(partner=west)


def paid(make, call, manager, *, currency="EUR", in_currency=None, rate=None):
    """A Danish SME's voucher (in DKK: its final report converts at this month's rate)
    paid after its report; the payment in ``currency``, at ``rate`` where one is given."""
    owner = make.applicant(country="DK", region="Capital Region")
    set_rate("DKK", rate or "7.4605")
    application = make.application("completed", call.voucher_type("travel"),
                                   applicant=owner, manager=manager)
    assert application.currency == "DKK"
    common = {"paid_on": today(), "reference": f"PAY-{application.id}",
              "invoice_number": f"INV-{application.id}", "invoice_date": today()}
    if currency == "EUR":
        payment = payments.record_payment(application, manager,
                                          settlement.payable(application), **common)
    else:
        payment = payments.record_payment(application, manager,
                                          amount_in_currency=in_currency, **common)
    db.session.commit()
    return application, payment


def set_rate(currency: str, units: str, day=None) -> None:
    """This month's (or ``day``'s) rate of ``currency``, replacing one already there."""
    day = day or today()
    row = db.session.scalar(select(ExchangeRate).where(
        ExchangeRate.year == day.year, ExchangeRate.month == day.month,
        ExchangeRate.currency == currency))
    if row is None:
        db.session.add(ExchangeRate(year=day.year, month=day.month, currency=currency,
                                    units_per_eur=Decimal(units)))
    else:
        row.units_per_eur = Decimal(units)
    db.session.commit()


rate = set_rate


def opened(partner, actor, end=None):
    report = reports.open_next_period(partner, actor, end or today())
    db.session.commit()
    return report


def test_periods_follow_each_other_one_draft_at_a_time(make):
    call, _, west, _, west_manager = consortium(make)
    first = opened(west, west_manager)
    assert (first.number, first.period_start) == (1, call.programme.starts_on)
    with pytest.raises(ReportRefused, match="Report 1 .* is still a draft"):
        reports.open_next_period(west, west_manager, today() + timedelta(days=30))
    reports.submit(first, west_manager)
    db.session.commit()
    with pytest.raises(ReportRefused, match="cannot end before that"):
        reports.open_next_period(west, west_manager, today())
    second = opened(west, west_manager, today() + timedelta(days=90))
    assert (second.number, second.period_start) == (2, today() + timedelta(days=1))


def test_a_submitted_period_cannot_change(make):
    call, _, west, manager, west_manager = consortium(make)
    application, payment = paid(make, call, manager)
    report = opened(west, west_manager)
    listing = reports.submit(report, west_manager)
    db.session.commit()
    assert report.status == "submitted" and report.submitted_by_id == west_manager.id
    [line] = listing.lines
    assert (line.cost_category, line.internal_reference, line.invoice_number) == (
        COST_CATEGORY, f"{application.reference} / ledger {line.ledger_entry_id}",
        payment.invoice_number)
    assert payment.reference in line.description
    assert line.total_value == line.declared_amount == line.declared_eur == payment.amount
    assert (line.vat, line.currency, line.rate) == (Decimal("0.00"), "EUR", Decimal("1"))

    with pytest.raises(ReportRefused, match="submitted on .* and is frozen"):
        reports.submit(report, west_manager)
    with pytest.raises(ReportRefused, match="is frozen: a correction goes into the next"):
        reports.change_period_end(report, west_manager, today() + timedelta(days=5))
    row = db.session.scalar(db.select(ExpenditureLine))
    row.declared_eur = Decimal("1.00")
    with pytest.raises(RuntimeError, match="frozen"):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(db.select(ExpenditureLine)).declared_eur == payment.amount


def test_a_reversal_after_submission_is_a_negative_line_of_the_next_period(make):
    call, _, west, manager, west_manager = consortium(make)
    _, payment = paid(make, call, manager)
    first = opened(west, west_manager)
    reports.submit(first, west_manager)
    db.session.commit()
    before = [(r.ledger_entry_id, r.total_value, r.declared_eur) for r in first.lines]

    payments.reverse_payment(payment, manager, "The bank returned the transfer.")
    # A payment recorded after the submission, dated inside the submitted period.
    _, late = paid(make, call, manager)
    db.session.commit()
    second = opened(west, west_manager, today() + timedelta(days=30))
    reversal, back_dated = reports.report_lines(second).lines
    assert reversal.total_value == reversal.declared_eur == -payment.amount
    assert reversal.correction and "reversal of the payment" in reversal.description
    assert "already submitted" in reversal.description  # booked today, inside period 1
    assert back_dated.declared_eur == late.amount and back_dated.correction
    assert "already submitted" in back_dated.description
    listing = reports.submit(second, west_manager, now=utcnow() + timedelta(days=31))
    db.session.commit()
    assert listing.declared_eur == late.amount - payment.amount
    db.session.expire_all()
    assert [(r.ledger_entry_id, r.total_value, r.declared_eur)
            for r in first.lines] == before
    assert reports.report_lines(first).declared_eur == payment.amount


@pytest.mark.parametrize("rule, rate_used, eur", [
    # The month of submission: InforEuro's rate of that month, not the payments' own.
    ("submission", Decimal("7.4605"), Decimal("134.04")),
    # The payment's month: the rate each payment stored when it was recorded.
    ("payment", Decimal("7.5"), Decimal("133.33")),
])
def test_payments_in_currency_convert_per_line_by_the_rate_rule(make, rule, rate_used, eur):
    call, _, west, manager, west_manager = consortium(make, rule)
    paid(make, call, manager, currency="DKK", in_currency="1000.00", rate="7.5000")
    paid(make, call, manager, currency="DKK", in_currency="333.33", rate="7.5000")
    report = opened(west, west_manager)
    assert reports.report_lines(report).provisional is (rule == "submission")
    later = utcnow() + timedelta(days=31)
    set_rate("DKK", "7.4605", local_date(later))
    listing = reports.submit(report, west_manager, now=later)
    db.session.commit()
    first, second = listing.lines
    assert (first.currency, first.total_value, first.declared_amount) == (
        "DKK", Decimal("1000.00"), Decimal("1000.00"))
    assert (first.rate, first.declared_eur) == (rate_used, eur)
    # Rounded once per line; the total is the sum of the rounded lines.
    assert second.declared_eur == to_eur(Decimal("333.33"), rate_used)
    assert listing.declared_eur == first.declared_eur + second.declared_eur
    assert [(r.rate, r.declared_eur) for r in report.lines] == [
        (line.rate, line.declared_eur) for line in listing.lines]


def test_a_missing_rate_blocks_submission_with_its_message(make):
    call, _, west, manager, west_manager = consortium(make)
    paid(make, call, manager, currency="DKK", in_currency="1000.00", rate="7.5")
    report = opened(west, west_manager)
    later = utcnow() + timedelta(days=31)
    draft = reports.report_lines(report, now=later)
    assert draft.lines[0].declared_eur is None and draft.declared_eur is None
    month = f"{local_date(later):%B %Y}"
    with pytest.raises(MissingRate, match=f"No InforEuro rate for DKK in {month}"):
        reports.submit(report, west_manager, now=later)
    db.session.rollback()
    assert report.status == "draft" and not report.lines


def test_a_reversed_payment_in_currency_is_negative_in_that_currency(make):
    call, _, west, manager, west_manager = consortium(make, "payment")
    _, payment = paid(make, call, manager, currency="DKK", in_currency="1000.00", rate="7.5")
    payments.reverse_payment(payment, manager, "Wrong account.")
    db.session.commit()
    lines = reports.report_lines(opened(west, west_manager)).lines
    assert [(line.total_value, line.declared_eur) for line in lines] == [
        (Decimal("1000.00"), Decimal("133.33")), (Decimal("-1000.00"), Decimal("-133.33"))]


def test_pages_show_submit_and_refuse_another_partners_report(make, client):
    call, lead, west, manager, west_manager = consortium(make)
    paid(make, call, manager)
    report = opened(west, west_manager)
    lead_report = opened(lead, manager)
    login(client, west_manager)
    page = client.get(f"/manage/partner-reports/{report.id}")
    assert page.status_code == 200 and b"freezes" in page.data
    assert COST_CATEGORY.encode() in page.data
    assert client.get(f"/manage/partner-reports/{lead_report.id}").status_code == 404
    assert client.get(f"/manage/partners/{lead.id}/reports").status_code == 404
    assert client.get("/manage/partner-reports").headers["Location"].endswith(
        f"/manage/partners/{west.id}/reports")
    refused = client.post(f"/manage/partner-reports/{report.id}/submit", data={})
    assert refused.status_code == 400 and b"Tick the box" in refused.data
    done = client.post(f"/manage/partner-reports/{report.id}/submit", data={"confirm": "y"})
    assert done.status_code == 303
    xlsx = post_and_download(client,
                             f"/manage/partner-reports/{report.id}/list-of-expenditure.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    xlsx.close()
    assert client.get(f"/manage/programmes/{call.programme_id}/consortium").status_code == 404
    frozen = client.post(f"/manage/partner-reports/{report.id}/period",
                         data={"period_end": (today() + timedelta(days=3)).isoformat()})
    assert frozen.status_code == 422 and b"is frozen" in frozen.data
    db.session.expire_all()
    assert db.session.get(type(report), report.id).status == "submitted"
    assert db.session.scalar(db.select(db.func.count()).select_from(Payment)) == 1


def test_a_drafts_end_moves_and_the_lead_sees_the_consortium(make, client):
    call, _, west, manager, west_manager = consortium(make)
    report = opened(west, west_manager, today() + timedelta(days=10))
    login(client, west_manager)
    moved = client.post(f"/manage/partner-reports/{report.id}/period",
                        data={"period_end": (today() + timedelta(days=20)).isoformat()})
    assert moved.status_code == 303
    early = client.post(f"/manage/partner-reports/{report.id}/submit", data={"confirm": "y"})
    assert early.status_code == 422 and b"submit it on that day or later" in early.data
    login(client, manager)
    home = client.get("/manage/partner-reports")
    assert home.headers["Location"].endswith(f"/manage/programmes/{call.programme_id}/consortium")
    page = client.get(home.headers["Location"])
    assert page.status_code == 200 and b"West Agency" in page.data
    assert b"Partner reports" in page.data  # the navigation's entry
    db.session.expire_all()
    assert report.period_end == today() + timedelta(days=20)


def test_a_draft_and_the_summary_read_in_queries_that_do_not_grow_with_lines(make, client):
    call, _, west, manager, west_manager = consortium(make)
    paid(make, call, manager, currency="DKK", in_currency="100.00")
    first = opened(west, west_manager)
    reports.submit(first, west_manager)
    db.session.commit()
    paid(make, call, manager, currency="DKK", in_currency="100.00")
    # A payment in EUR and its reversal: the draft reads what reversed payments declared.
    _, payment = paid(make, call, manager)
    payments.reverse_payment(payment, manager, "Returned.")
    db.session.commit()
    draft = opened(west, west_manager, today() + timedelta(days=30))
    login(client, manager)
    urls = (f"/manage/partner-reports/{draft.id}",
            f"/manage/programmes/{call.programme_id}/consortium")
    few = [count_queries(client, url)[0] for url in urls]
    # Three more lines in the draft.
    for _ in range(3):
        paid(make, call, manager, currency="DKK", in_currency="50.00")
    db.session.commit()
    assert [count_queries(client, url)[0] for url in urls] == few
    assert len(reports.report_lines(draft).lines) == 6


def test_under_the_payment_rule_a_line_declares_what_the_ledger_booked(make):
    call, _, west, manager, west_manager = consortium(make, "payment")
    # A currency worth more than the euro (a fictitious rate): its coin (0.01) is 0.033 EUR,
    # so a transfer one coin short of the due comes 0.03 EUR short, and settles it in full.
    set_rate("DKK", "0.3000")
    application = make.application("completed", call.voucher_type("travel"), manager=manager,
                                   applicant=make.applicant(country="DK",
                                                            region="Capital Region"))
    due = settlement.payable(application)
    sent = due * Decimal("0.3") - Decimal("0.01")
    assert Decimal("0") < due - to_eur(sent, Decimal("0.3")) < Decimal("0.01") / Decimal("0.3")
    payment = payments.record_payment(application, manager, amount_in_currency=sent,
                                      paid_on=today(), reference="PAY-SHORT")
    db.session.commit()
    assert payment.amount == due
    [line] = reports.report_lines(opened(west, west_manager)).lines
    assert (line.currency, line.total_value, line.rate) == ("DKK", sent, Decimal("0.3000"))
    assert line.declared_eur == payment.amount == due


def test_the_correction_flag_reads_the_same_once_submitted(make):
    call, _, west, manager, west_manager = consortium(make)
    _, payment = paid(make, call, manager)
    first = opened(west, west_manager)
    reports.submit(first, west_manager)
    db.session.commit()
    payments.reverse_payment(payment, manager, "Returned.")
    paid(make, call, manager)  # back-dated into period 1: positive, yet a correction
    paid_later = opened(west, west_manager, today() + timedelta(days=30))
    draft = [line.correction for line in reports.report_lines(paid_later).lines]
    assert draft == [True, True]
    reports.submit(paid_later, west_manager, now=utcnow() + timedelta(days=31))
    db.session.commit()
    db.session.expire_all()
    assert [line.correction for line in reports.report_lines(paid_later).lines] == draft
    assert [line.correction for line in reports.report_lines(first).lines] == [False]


def test_a_period_cannot_end_after_the_programme(make, client):
    call, _, west, _, west_manager = consortium(make)
    ends_on = call.programme.ends_on
    with pytest.raises(ReportRefused, match="The programme ends on .* cannot end after"):
        reports.open_next_period(west, west_manager, date(9999, 12, 31))
    db.session.rollback()
    report = opened(west, west_manager, ends_on)
    login(client, west_manager)
    far = client.post(f"/manage/partner-reports/{report.id}/period",
                      data={"period_end": "9999-12-31"})
    assert far.status_code == 422 and b"cannot end after" in far.data
    assert client.get(f"/manage/partners/{west.id}/reports").status_code == 200


def test_moving_the_end_of_a_report_submitted_meanwhile_is_refused(make):
    call, _, west, _, west_manager = consortium(make)
    report = opened(west, west_manager, today() + timedelta(days=10))
    # Another manager's submission, committed while this one had the draft loaded.
    db.session.execute(db.update(PartnerReport).where(PartnerReport.id == report.id)
                       .values(status="submitted", submitted_at=utcnow())
                       .execution_options(synchronize_session=False))
    with pytest.raises(ConcurrentChange, match="submitted by someone else"):
        reports.change_period_end(report, west_manager, today() + timedelta(days=20))
    db.session.rollback()
    db.session.expire_all()
    assert report.period_end == today() + timedelta(days=10)


def test_a_reversal_takes_back_what_its_payment_declared_at_that_lines_rate(make):
    # Under the submission rule, period 2 is submitted a month later at another rate; the
    # returned payment must leave nothing declared, not the difference of two rates.
    call, _, west, manager, west_manager = consortium(make, "submission")
    _, payment = paid(make, call, manager, currency="DKK", in_currency="1000.00", rate="7.5")
    first = opened(west, west_manager)
    declared = reports.submit(first, west_manager).lines[0]
    db.session.commit()
    assert (declared.rate, declared.declared_eur) == (Decimal("7.5"), Decimal("133.33"))
    payments.reverse_payment(payment, manager, "Returned by the bank.")
    db.session.commit()
    later = utcnow() + timedelta(days=31)
    set_rate("DKK", "7.4605", local_date(later))
    second = opened(west, west_manager, end=local_date(later))
    (reversal,) = reports.submit(second, west_manager, now=later).lines
    db.session.commit()
    assert (reversal.total_value, reversal.rate, reversal.declared_eur) == (
        Decimal("-1000.00"), Decimal("7.5"), Decimal("-133.33"))
    assert reversal.correction
