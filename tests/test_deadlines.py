"""Deadlines: set on the call form, fixed on each voucher at its award, and overdue items
marked in every list that shows them (the manager's table and dashboard, the evaluator's
and the applicant's homes, the application pages)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from tests.helpers import login, snapshot
from tests.test_manager_calls import field_errors, form_fields, page
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models import Application, Call
from vouchers.services import call_setup, deadlines, reviews
from vouchers.services.call_specs import SetupRefused

ROW = re.compile(r'<th scope="row"><a href="/manage/applications/\d+">([^<]+)</a></th>')
TRAVEL_END, DELIVERY = date(2027, 3, 3), date(2027, 6, 30)  # tests/factories.py's details


@pytest.fixture
def manager(make):
    return make.manager()


def _set(application: Application, **values) -> None:
    """Move a row as time would (a deadline that has passed since the award)."""
    db.session.execute(update(Application).where(Application.id == application.id)
                       .values(**values))
    db.session.commit()


# --- the report deadline, set at the award ---------------------------------------------


@pytest.mark.parametrize(("voucher_type", "end"), [
    ("travel", TRAVEL_END), ("market_validation", DELIVERY), ("product_validation", DELIVERY),
])
def test_the_report_is_due_the_calls_days_after_the_activity_ends(make, manager,
                                                                   voucher_type, end):
    call = make.call()
    call.report_due_days = 45
    db.session.commit()
    voucher = make.application("awarded", call.voucher_type(voucher_type), manager=manager)
    assert voucher.report_due_on == end + timedelta(days=45)


def test_an_impact_voucher_is_due_after_the_implementation_period_else_the_award(
        make, manager):
    call = make.call()
    call.implementation_ends_on = date(2027, 9, 30)
    db.session.commit()
    with_period = make.application("awarded", call.voucher_type("impact"), manager=manager)
    assert with_period.report_due_on == date(2027, 9, 30) + timedelta(days=60)

    call.implementation_ends_on = None
    db.session.commit()
    without = make.application("awarded", call.voucher_type("impact"), manager=manager)
    assert without.report_due_on == today() + timedelta(days=60)


def test_an_activity_that_ended_before_the_award_counts_from_the_award(make, manager):
    call = make.call()
    draft = make.draft(call.voucher_type("travel"))
    draft.details = {**draft.details, "start_date": "2026-01-05", "end_date": "2026-01-07"}
    db.session.commit()
    assert deadlines.report_due_on(draft, today()) == today() + timedelta(days=60)


def test_changing_the_days_later_moves_no_deadline_already_set(client, make, manager):
    call = make.call()
    first = make.application("awarded", call.voucher_type("travel"), manager=manager)
    login(client, manager)
    data = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    assert data["report_due_days"] == "60"
    data["report_due_days"] = "90"
    assert client.post(f"/manage/calls/{call.id}/edit", data=data).status_code == 303

    later = make.application("awarded", call.voucher_type("travel"), manager=manager)
    db.session.refresh(first)
    assert first.report_due_on == TRAVEL_END + timedelta(days=60)
    assert later.report_due_on == TRAVEL_END + timedelta(days=90)


# --- the call form ------------------------------------------------------------------------


def test_the_call_form_saves_both_deadlines_and_shows_them(client, make, manager):
    call = make.call()
    login(client, manager)
    html = page(client.get(f"/manage/calls/{call.id}/edit"))
    assert "Reviews due by" in html and "Final report due (days after the activity ends)" in html
    assert "does not move the deadlines of vouchers already awarded" in html
    data = form_fields(html)
    due = today() + timedelta(days=20)
    data.update(review_deadline=due.isoformat(), report_due_days="30")
    assert client.post(f"/manage/calls/{call.id}/edit", data=data).status_code == 303

    db.session.refresh(call)
    assert (call.review_deadline, call.report_due_days) == (due, 30)
    shown = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    assert (shown["review_deadline"], shown["report_due_days"]) == (due.isoformat(), "30")
    board = page(client.get(f"/manage/calls/{call.id}/dashboard"))
    assert f"Reviews due by {deadlines.day(due)}" in board
    assert "final reports due 30 days after each voucher" in board


def test_a_new_call_starts_with_60_days_and_no_review_deadline(client, make, manager):
    programme = make.call().programme
    login(client, manager)
    data = form_fields(page(client.get(f"/manage/calls/new?programme={programme.id}")))
    assert data["report_due_days"] == "60" and data["review_deadline"] == ""


def test_a_post_without_the_deadline_fields_keeps_them(client, make, manager):
    call = make.call()
    call.review_deadline, call.report_due_days = date(2027, 2, 1), 21
    db.session.commit()
    login(client, manager)
    data = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    del data["review_deadline"], data["report_due_days"]
    assert client.post(f"/manage/calls/{call.id}/edit", data=data).status_code == 303
    db.session.refresh(call)
    assert (call.review_deadline, call.report_due_days) == (date(2027, 2, 1), 21)


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("report_due_days", "0", "From 1 to 365 days."),
    ("report_due_days", "366", "From 1 to 365 days."),
    ("report_due_days", "", "Give the number of days."),
    ("report_due_days", "ten", "Give a whole number such as 3."),
    ("review_deadline", "2027-02-30", "Not a valid date value."),
    ("review_deadline", "next week", "Not a valid date value."),
    ("review_deadline", "1999-01-01", "Not before the call opens"),
    ("review_deadline", "2029-01-01", "Not after the programme ends (31 December 2028)."),
])
def test_bad_deadlines_are_refused_next_to_their_field(client, make, manager, field, typed,
                                                       message):
    call = make.call()
    login(client, manager)
    data = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    data[field] = typed
    before = snapshot()
    response = client.post(f"/manage/calls/{call.id}/edit", data=data)
    assert response.status_code == 400
    assert message in field_errors(page(response), field)
    assert snapshot() == before


def test_the_service_refuses_bad_deadlines_from_any_caller(make, manager):
    call = make.call()
    spec = deadlines.CallSpec(code=call.code, title=call.title, opens_at=call.opens_at,
                              closes_at=call.closes_at, types=[], report_due_days=0,
                              review_deadline=date(2030, 1, 1))
    with pytest.raises(SetupRefused) as refused:
        call_setup.update_call(call, spec, manager)
    assert "must be due 1 to 365 days after the activity ends" in refused.value.message
    assert "after the programme ends (31 December 2028)" in refused.value.message


# --- overdue, in every list --------------------------------------------------------------


@pytest.fixture
def late(make, manager):
    """A call whose review deadline was yesterday: one application with a review still to
    come (and one evaluator who did review it), one fully reviewed, one whose evaluator
    declared a conflict; a voucher whose report deadline was yesterday, one due today, and
    one whose report is in. Another call, not late, has the same."""
    yesterday = today() - timedelta(days=1)
    call, calm = make.call(), make.call()
    w = SimpleNamespace(call=call, calm=calm, manager=manager)
    mv = call.voucher_type("market_validation")
    w.slow, w.quick = make.evaluator(), make.evaluator()
    w.pending = make.application("under_review", mv, manager=manager, evaluator=w.quick)
    reviews.assign(w.pending, w.slow, manager)
    w.reviewed = make.application("under_review", mv, manager=manager, evaluator=w.quick)
    w.conflicted = make.application("submitted", mv)
    reviews.assign(w.conflicted, w.slow, manager)
    reviews.declare_conflict(w.conflicted, w.slow, "I advised them.")
    w.elsewhere = make.application("submitted", calm.voucher_type("market_validation"))
    reviews.assign(w.elsewhere, w.slow, manager)
    w.overdue = make.application("awarded", call.voucher_type("travel"), manager=manager)
    w.today = make.application("reporting", call.voucher_type("travel"), manager=manager)
    w.sent = make.application("report_submitted", call.voucher_type("travel"), manager=manager)
    db.session.commit()
    _set(w.overdue, report_due_on=yesterday)
    _set(w.today, report_due_on=today())
    _set(w.sent, report_due_on=yesterday)
    call.review_deadline = yesterday
    calm.review_deadline = today()
    db.session.commit()
    return w


def _listed(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200
    return set(ROW.findall(page(response)))


def _row(html: str, reference: str) -> str:
    return html.split(f">{reference}</a></th>")[1].split("</tr>")[0]


def test_the_table_filters_overdue_reviews_and_reports(client, late):
    login(client, late.manager)
    base = f"/manage/applications?call={late.call.id}&needs="
    assert _listed(client, base + "reviews_overdue") == {late.pending.reference}
    assert _listed(client, base + "reports_overdue") == {late.overdue.reference}
    assert _listed(client, f"/manage/applications?call={late.calm.id}&needs=reviews_overdue") \
        == set()
    assert "Review overdue" in page(client.get(base))  # the filter's choice


def test_the_table_marks_overdue_rows_in_words(client, late):
    login(client, late.manager)
    html = page(client.get(f"/manage/applications?call={late.call.id}&per_page=100"))
    assert "Review overdue" in _row(html, late.pending.reference)
    assert "Final report overdue" in _row(html, late.overdue.reference)
    for quiet in (late.reviewed, late.conflicted, late.today, late.sent):
        assert "overdue" not in _row(html, quiet.reference)


def test_the_dashboard_counts_what_is_overdue_and_links_to_the_list(client, late):
    login(client, late.manager)
    for url in (f"/manage/calls/{late.call.id}/dashboard", "/manage/"):
        html = page(client.get(url))
        for key, heading in (("reviews_overdue", "Applications with a review overdue"),
                             ("reports_overdue", "Final reports overdue")):
            link = f'href="/manage/applications?call={late.call.id}&amp;needs={key}"'
            assert f'{link}><strong>1</strong> {heading}</a>' in html
    # The call that is not late says nothing about overdue items.
    assert "overdue" not in page(client.get(f"/manage/calls/{late.calm.id}/dashboard"))


def test_the_evaluator_sees_due_dates_and_what_is_overdue(client, late):
    login(client, late.slow)
    html = page(client.get("/evaluate/"))
    mine = _evaluator_row(html, late.pending.reference)
    assert deadlines.day(late.call.review_deadline) in mine and "Overdue" in mine
    elsewhere = _evaluator_row(html, late.elsewhere.reference)
    assert "(today)" in elsewhere and "Overdue" not in elsewhere
    assert late.conflicted.reference not in html  # a declared conflict takes it off

    login(client, late.quick)  # reviewed both: nothing is due from them
    html = page(client.get("/evaluate/"))
    assert "Overdue" not in html
    assert deadlines.day(late.call.review_deadline) not in html


def _evaluator_row(html: str, reference: str) -> str:
    return html.split(f">{reference}</a></td>")[1].split("</tr>")[0]


def test_the_applicant_sees_the_report_deadline_and_that_it_passed(client, late):
    login(client, late.overdue.applicant)
    home = page(client.get("/apply/"))
    row = home.split(f">{late.overdue.reference}</a>")[1].split("</tr>")[0]
    assert deadlines.day(late.overdue.report_due_on) in row and "Overdue" in row
    html = page(client.get(f"/apply/applications/{late.overdue.id}"))
    assert "Final report due by" in html and "Overdue" in html

    login(client, late.today.applicant)
    html = page(client.get(f"/apply/applications/{late.today.id}"))
    assert "Final report due by" in html and "(today)" in html and "Overdue" not in html

    login(client, late.sent.applicant)  # the report is in: no deadline any more
    assert "Final report due by" not in page(client.get(f"/apply/applications/{late.sent.id}"))


def test_the_managers_application_page_shows_the_report_deadline(client, late):
    login(client, late.manager)
    html = page(client.get(f"/manage/applications/{late.overdue.id}"))
    assert "Final report due by" in html and "Overdue" in html
    assert deadlines.day(late.overdue.report_due_on) in html


def test_the_sql_and_the_pages_agree_on_what_is_overdue(late):
    """The conditions the table and the dashboard count, and the Python twins the pages
    use, give the same answer for every application."""
    everything = list(db.session.scalars(db.select(Application)))
    late_reviews = deadlines.reviews_overdue_among([a.id for a in everything])
    late_reports = set(db.session.scalars(
        db.select(Application.id).where(deadlines.report_overdue())))
    marks = deadlines.overdue_marks(everything)
    assert {i for i, m in marks.items() if "review" in m} == late_reviews == {late.pending.id}
    assert {i for i, m in marks.items() if "report" in m} == late_reports == {late.overdue.id}
    assert db.session.get(Call, late.call.id).review_deadline < today()
