"""The workbook's Follow-up sheet: the dashboard's roll-up of the follow-up surveys, with
per-round totals as live formulas that LibreOffice recalculates to the same figures."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from exports.budget_workbook import SHEET_NAMES, WorkbookMeta, build_budget_workbook
from exports.follow_up_sheet import TITLE, FollowUpRow
from tests.factories import DEFAULT_TYPES
from tests.test_surveys import paid_voucher, run
from tests.test_workbook_libreoffice import SOFFICE, cents, recalculate
from vouchers.extensions import db
from vouchers.models.surveys import FollowUpSurvey
from vouchers.services import surveys
from vouchers.services.workbook import COMMAND_LINE, WorkbookFilters, budget_export


def _book(rows) -> BytesIO:
    out = BytesIO()
    build_budget_workbook(
        out, meta=WorkbookMeta(programme="P", funder="F", call="C",
                               generated_at=datetime(2026, 6, 1, tzinfo=UTC),
                               generated_by="test"),
        summaries=[], vouchers=iter([]), applications=iter([]), payments=[],
        de_minimis=iter([]), follow_up=rows)
    out.seek(0)
    return out


def test_the_sheet_lists_the_rows_and_totals_each_round_with_formulas():
    rows = [
        FollowUpRow(label="=Impact", months=6, sent=4, answered=2, jobs_created=3,
                    turnover_change=Decimal("999.80"), follow_on_investment=Decimal("0.07"),
                    market_entries=2, certifications=1),
        FollowUpRow(label="Travel", months=6, sent=1, answered=1, jobs_created=None,
                    turnover_change=None, follow_on_investment=Decimal("10.00"),
                    market_entries=0, certifications=None),
        FollowUpRow(label="=Impact", months=24, sent=1, answered=0, jobs_created=0,
                    turnover_change=Decimal("0"), follow_on_investment=Decimal("0"),
                    market_entries=0, certifications=0),
    ]
    book = load_workbook(_book(rows))
    assert book.sheetnames == list(SHEET_NAMES) and TITLE in SHEET_NAMES
    ws = book[TITLE]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][:4] == ["Voucher type", "Months after payment", "Surveys sent", "Answered"]
    # Typed text stays text: a label starting with "=" is no formula.
    assert ws["A2"].data_type == "s" and ws["A2"].value == "=Impact"
    assert values[2][4] is None and values[2][8] is None  # not asked of a trip
    assert values[4][:2] == ["All types, 6 months", 6]
    assert values[4][2] == "=SUMIF($B$2:$B$4,B5,C$2:C$4)"
    assert values[5][:2] == ["All types, 24 months", 24]
    assert ws.auto_filter.ref == "A1:I4"


def test_an_empty_sheet_has_its_header_only():
    ws = load_workbook(_book([]))[TITLE]
    assert ws.max_row == 1


@pytest.fixture
def surveyed(make):
    call = make.call({**DEFAULT_TYPES, "impact": (10, "100000", "0.50", "1000000")})
    call.follow_up_months = [6, 24]
    db.session.commit()
    answers = {
        "impact": [dict(jobs_created=2, turnover_change=Decimal("1000.10"), market_entry=True,
                        certification=False, follow_on_investment=Decimal("0.07")),
                   dict(jobs_created=1, turnover_change=Decimal("-0.33"), market_entry=False,
                        certification=True, follow_on_investment=Decimal("5000.01"))],
        "market_validation": [dict(jobs_created=4, turnover_change=Decimal("20000.01"),
                                   market_entry=True, follow_on_investment=Decimal("0.01"))],
    }
    vouchers = {}
    for voucher_type, given in answers.items():
        for one in given:
            vouchers[paid_voucher(make, call, voucher_type, months_ago=25)[0].id] = one
    paid_voucher(make, call, "travel", months_ago=7)  # sent, not answered
    run()
    for survey in db.session.scalars(select(FollowUpSurvey).where(
            FollowUpSurvey.months == 6).order_by(FollowUpSurvey.id)):
        if survey.application_id in vouchers:
            surveys.answer(survey, survey.application.applicant, vouchers[survey.application_id])
    db.session.commit()
    return call


def _sheet(call, tmp_path, filters=None):
    path = tmp_path / "book.xlsx"
    with budget_export(call, filters) as export:
        export.write(str(path), generated_by=COMMAND_LINE)
    return path


def test_the_sheet_holds_the_dashboards_roll_up(surveyed, tmp_path):
    figures = surveys.roll_up(db.session, surveyed.id)
    ws = load_workbook(_sheet(surveyed, tmp_path))[TITLE]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=len(figures) + 1)]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (f.label, f.months, f.sent, f.answered) for f in figures]
    impact6 = next(r for r in rows if r[0] == "Impact" and r[1] == 6)
    assert (impact6[4], Decimal(str(impact6[5])), impact6[7], impact6[8]) == (
        3, Decimal("999.77"), 1, 1)

    only_travel = load_workbook(_sheet(surveyed, tmp_path, WorkbookFilters(("travel",)))
                                )[TITLE]
    assert [c.value for c in only_travel["A"]][1:] == ["Travel", "All types, 6 months"]


def test_the_progress_counts_the_follow_up_rows(surveyed, tmp_path):
    seen = []
    with budget_export(surveyed) as export:
        expected = export.row_count()
        written = export.write(BytesIO(), generated_by=COMMAND_LINE, progress=seen.append)
    assert seen[-1] == written == expected


@pytest.mark.libreoffice
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_recalculates_each_rounds_totals_to_the_roll_up(surveyed, tmp_path):
    figures = surveys.roll_up(db.session, surveyed.id)
    converted = recalculate(SOFFICE, _sheet(surveyed, tmp_path), tmp_path)
    ws = load_workbook(converted, data_only=True)[TITLE]
    header = [c.value for c in ws[1]]
    totals = {row[1].value: {header[i]: row[i].value for i in range(2, len(header))}
              for row in ws.iter_rows(min_row=len(figures) + 2)}
    assert set(totals) == {6, 24}
    for months, computed in totals.items():
        mine = [f for f in figures if f.months == months]
        assert None not in computed.values(), computed
        assert computed["Surveys sent"] == sum(f.sent for f in mine)
        assert computed["Answered"] == sum(f.answered for f in mine)
        assert computed["Jobs created"] == sum(f.jobs_created or 0 for f in mine)
        assert computed["New markets entered"] == sum(f.market_entries or 0 for f in mine)
        assert computed["Certifications"] == sum(f.certifications or 0 for f in mine)
        assert cents(computed["Turnover change"]) == sum(
            (f.turnover_change or 0 for f in mine), Decimal("0.00"))
        assert cents(computed["Follow-on investment"]) == sum(
            (f.follow_on_investment or 0 for f in mine), Decimal("0.00"))
    six = [f for f in figures if f.months == 6]
    assert sum(f.follow_on_investment or 0 for f in six) == Decimal("5000.09")
