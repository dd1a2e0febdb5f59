"""A partner report's workbook, recalculated by LibreOffice, adds up to what the database
declared: the totals row's live SUM over the rounded lines equals the sum of the frozen
lines, in EUR, to the cent; user text stays text."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import func, select

from exports.partner_report import ABOUT, COLUMNS, TITLE
from tests.helpers import login
from tests.jobs_support import post_and_download
from tests.test_partner_reports import consortium, opened, paid, rate
from tests.test_workbook_libreoffice import cents, recalculate, soffice  # noqa: F401
from vouchers.clock import local_date
from vouchers.extensions import db
from vouchers.manager.partner_reports import report_workbook
from vouchers.models import Call, ExpenditureLine
from vouchers.models.base import utcnow
from vouchers.services import partner_reports as reports
from vouchers.services import payments, settlement

EUR_COLUMN = [c.header for c in COLUMNS].index("Declared amount in EUR") + 1


def submitted_report(make):
    """A Danish partner's period: DKK, GBP and EUR payments, one reversed."""
    call, _, west, manager, west_manager = consortium(make)
    rate("DKK", "7.4605")
    rate("GBP", "0.8312")
    application, _ = paid(make, call, manager, currency="DKK", in_currency="1234.57")
    # What an SME typed stays text in the funder's spreadsheet, never a formula.
    application.title = "=HYPERLINK(\"http://x.example\")"
    paid(make, call, manager, currency="GBP", in_currency="333.33")
    _, euro = paid(make, call, manager)
    payments.reverse_payment(euro, manager, "=1+1 returned by the bank")
    db.session.commit()
    report = opened(west, west_manager)
    reports.submit(report, west_manager)
    db.session.commit()
    return report


def test_the_totals_equal_the_database_after_libreoffice(make, soffice, tmp_path):  # noqa: F811
    report = submitted_report(make)
    data, name = report_workbook(report, "Test (test@x.example)")
    source = tmp_path / name
    source.write_bytes(data)
    wb = load_workbook(recalculate(soffice, source, tmp_path), data_only=True)
    ws = wb[TITLE]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "ID" and rows[-1][0] == "Total"
    database = db.session.scalar(select(func.sum(ExpenditureLine.declared_eur)).where(
        ExpenditureLine.report_id == report.id))
    assert len(rows) == 2 + 4
    assert cents(rows[-1][EUR_COLUMN - 1]) == database
    assert sum(cents(r[EUR_COLUMN - 1]) for r in rows[1:-1]) == database
    # Mixed currencies: the currency columns have no total, the EUR column has one.
    assert rows[-1][7] is None
    assert wb[ABOUT]["B6"].value == "Partner report 1"


def test_layout_formulas_and_text(make):
    report = submitted_report(make)
    data, _ = report_workbook(report, "Test", now=utcnow())
    wb = load_workbook(io.BytesIO(data))
    ws = wb[TITLE]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:M5"
    assert ws.cell(6, EUR_COLUMN).value == "=SUM(M2:M5)"
    descriptions = [ws.cell(r, 7) for r in range(2, 6)]
    assert all(c.data_type == "s" for c in descriptions)
    # A formula-like title stays text, after what the movement is.
    assert descriptions[0].value.startswith("Payment ")
    assert descriptions[0].value.endswith('Travel voucher: =HYPERLINK("http://x.example")')
    assert "=1+1 returned by the bank" in descriptions[3].value
    assert ws.cell(2, EUR_COLUMN).number_format.endswith("[$EUR]")
    about = {row[0].value: row[1].value for row in wb[ABOUT].iter_rows(min_row=2)}
    assert about["Partner"] == "West Agency" and about["Status"] == "submitted"
    assert "month of submission" in about["Conversion"]


def test_a_drafts_workbook_says_its_rates_are_provisional(make):
    call, _, west, manager, west_manager = consortium(make)
    rate("DKK", "7.4605")
    paid(make, call, manager, currency="DKK", in_currency="100.00")
    report = opened(west, west_manager, None)
    data, _ = report_workbook(report, "Test")
    about = {row[0].value: row[1].value
             for row in load_workbook(io.BytesIO(data))[ABOUT].iter_rows(min_row=2)}
    assert about["Status"] == "draft" and about["Rates"].startswith("Provisional")


def test_the_consortium_summary_adds_up_in_eur(make, client):
    report = submitted_report(make)
    manager = make.manager()
    # A payment in EUR to a Danish SME, in the next period: a DKK partner's EUR line.
    call = db.session.scalar(select(Call).where(
        Call.programme_id == report.partner.programme_id))
    _, euro = paid(make, call, manager)
    draft = opened(report.partner, manager, local_date(utcnow()) + timedelta(days=30))
    login(client, manager)
    response = post_and_download(
        client, f"/manage/programmes/{report.partner.programme_id}/consortium.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data))["Consortium summary"]
    response.close()
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][7:] == ("Lines in the partner's currency",
                           "Lines in EUR (partner not in EUR)", "Declared in EUR (all lines)")
    assert rows[1][0] == "West Agency" and rows[1][6] == "submitted"
    frozen = reports.report_lines(report)
    assert Decimal(str(rows[1][7])) == frozen.declared_in("DKK")
    assert Decimal(str(rows[1][8])) == frozen.declared_in("EUR")  # paid, then reversed
    assert Decimal(str(rows[1][9])) == frozen.declared_eur
    assert rows[2][6] == "draft" and Decimal(str(rows[2][8])) == euro.amount
    assert Decimal(str(rows[2][9])) == reports.report_lines(draft).declared_eur == euro.amount
    assert rows[-1][9] == "=SUM(J2:J3)"
    page = client.get(f"/manage/programmes/{report.partner.programme_id}/consortium")
    assert b"Lines in EUR (partner not in EUR)" in page.data


def test_the_internal_reference_tells_a_payment_from_its_reversal(make):
    # Jems takes 30 characters: a long bank reference, shared by a payment and its
    # reversal, goes into the description; the reference names the ledger entry.
    call, _, west, manager, west_manager = consortium(make)
    rate("DKK", "7.4605")
    application = make.application("completed", call.voucher_type("travel"), manager=manager,
                                   applicant=make.applicant(country="DK",
                                                            region="Capital Region"))
    payment = payments.record_payment(application, manager, settlement.payable(application),
                                      paid_on=local_date(utcnow()),
                                      reference="BANK-TRANSFER-2026-000123456789")
    payments.reverse_payment(payment, manager, "Returned.")
    db.session.commit()
    report = opened(west, west_manager)
    reports.submit(report, west_manager)
    db.session.commit()
    first, second = report.lines
    assert first.internal_reference != second.internal_reference
    assert all(len(row.internal_reference) <= 30 for row in (first, second))
    assert all("BANK-TRANSFER-2026-000123456789" in row.description for row in (first, second))
    data, _ = report_workbook(report, "Test")
    sheet = load_workbook(io.BytesIO(data))[TITLE]
    assert [sheet.cell(r, 3).value for r in (2, 3)] == [
        first.internal_reference, second.internal_reference]
