"""Deadlines: set on the call form, fixed on each voucher at its award, and overdue items
marked in every list that shows them (the manager's table and dashboard, the evaluator's
and the applicant's homes, the application pages)."""

from __future__ import annotations

import os
import re
import warnings
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade as migrate_up
from sqlalchemy import update

from tests.conftest import POSTGRES_DEFAULT, postgres_database, postgres_reachable
from tests.helpers import count_queries, login, snapshot
from tests.test_manager_calls import field_errors, form_fields, page
from vouchers import create_app
from vouchers.clock import local_date, today
from vouchers.extensions import db
from vouchers.models import Application, Call
from vouchers.services import call_setup, deadlines, eligibility, reviews
from vouchers.services.setup_checks import SetupRefused

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


def test_the_evaluators_application_page_says_when_their_review_is_due(client, late):
    reviews.confirm_no_conflict(late.pending, late.slow)
    db.session.commit()
    login(client, late.slow)
    html = page(client.get(f"/evaluate/applications/{late.pending.id}"))
    assert "Your review is due by" in html and "Overdue" in html
    login(client, late.quick)  # reviewed it: nothing is due
    html = page(client.get(f"/evaluate/applications/{late.pending.id}"))
    assert "Your review is due by" not in html


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


def _evaluator(html: str, name: str) -> str:
    """The evaluator's row of the manager's assignments panel."""
    panel = html.split('id="assignments-heading"')[1].split("</section>")[0]
    return panel.split(f'<th scope="row">{name}</th>')[1].split("</tr>")[0]


def test_the_ranking_marks_the_applications_with_a_review_overdue(client, late):
    login(client, late.manager)
    html = page(client.get(f"/manage/calls/{late.call.id}/ranking/market_validation"))
    assert "Review overdue" in _row(html, late.pending.reference)
    assert "overdue" not in _row(html, late.reviewed.reference)


def test_the_managers_assignments_panel_marks_each_review_overdue(client, late):
    login(client, late.manager)
    html = page(client.get(f"/manage/applications/{late.pending.id}"))
    slow = _evaluator(html, late.slow.name)
    assert f"due by <time datetime=\"{late.call.review_deadline}\">" in slow
    assert "Overdue" in slow
    assert "Review submitted" in _evaluator(html, late.quick.name)
    assert "due by" not in _evaluator(html, late.quick.name)
    # A declared conflict carries no deadline.
    html = page(client.get(f"/manage/applications/{late.conflicted.id}"))
    assert "Conflict of interest" in _evaluator(html, late.slow.name)
    assert "due by" not in _evaluator(html, late.slow.name)


def test_the_company_page_marks_what_is_overdue_in_a_fixed_number_of_queries(
        client, make, manager):
    call = make.call()
    call.max_applications_per_type = None
    db.session.commit()
    applicant, slow = make.applicant(), make.evaluator()
    yesterday = today() - timedelta(days=1)

    def overdue_voucher():
        voucher = make.application("awarded", call.voucher_type("travel"),
                                   applicant=applicant, manager=manager)
        _set(voucher, report_due_on=yesterday)
        return voucher

    def review_overdue():
        pending = make.application("under_review", call.voucher_type("market_validation"),
                                   applicant=applicant, manager=manager)
        reviews.assign(pending, slow, manager)
        db.session.commit()
        return pending

    vouchers, pending = [overdue_voucher()], [review_overdue()]
    on_time = make.application("awarded", call.voucher_type("product_validation"),
                               applicant=applicant, manager=manager)
    call.review_deadline = yesterday
    db.session.commit()
    url = f"/manage/organisations/{applicant.organisation_id}"
    login(client, manager)
    client.get(url)
    few, _ = count_queries(client, url)

    vouchers += [overdue_voucher() for _ in range(3)]
    pending += [review_overdue() for _ in range(2)]
    many, html = count_queries(client, url)
    assert many == few
    for voucher in vouchers:
        assert "Final report overdue" in _row(html, voucher.reference)
    for application in pending:
        assert "Review overdue" in _row(html, application.reference)
    assert "overdue" not in _row(html, on_time.reference)


# --- a typed activity end is capped at the call's last day of activities ----------------


@pytest.mark.parametrize("typed", ["9999-12-31", "2207-03-03"])
@pytest.mark.parametrize("implementation_end", [date(2027, 9, 30), None])
def test_an_activity_end_past_the_calls_last_day_counts_as_that_day(
        client, make, manager, typed, implementation_end):
    """A date accepted by an eligibility exception (or a typo) neither breaks the award
    nor pushes the report out of every reminder's reach."""
    call = make.call()
    call.implementation_ends_on = implementation_end
    draft = make.draft(call.voucher_type("travel"))
    draft.details = {**draft.details, "end_date": typed}
    db.session.commit()
    make.step(draft, "submit", applicant=draft.applicant, manager=None)
    eligibility.accept_exception(draft, "activity_dates", "The event is confirmed.", manager)
    db.session.commit()
    make.review(draft, manager=manager)
    login(client, manager)
    response = client.post(f"/manage/applications/{draft.id}/actions/award",
                           data={"award-amount": f"{draft.requested_amount:.2f}",
                                 "award-comment": "Strong case."})
    assert response.status_code == 303
    db.session.refresh(draft)
    last_day = implementation_end or call.programme.ends_on
    assert draft.state == "awarded"
    assert draft.report_due_on == last_day + timedelta(days=60)


# --- migration 0008 gives vouchers awarded before it their deadline ----------------------


def _backends():
    yield pytest.param("sqlite", id="sqlite")
    reason = postgres_reachable()
    skip = bool(reason) and os.environ.get("REQUIRE_POSTGRES") != "1"
    yield pytest.param("postgresql", id="postgresql",
                       marks=pytest.mark.skipif(skip, reason=reason or ""))


@pytest.fixture(params=list(_backends()))
def app_at_0007(request, tmp_path, monkeypatch):
    """An app whose database is migrated to 0007 only (before the deadlines)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = "sqlite:///" + str(tmp_path / "at0007.db")
        else:
            url = stack.enter_context(postgres_database(POSTGRES_DEFAULT, "deadlines"))
        monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                          "SECRET_KEY": "test-secret-key"})
        with app.app_context():
            migrate_up(revision="0007")
            yield app
            db.session.remove()
            db.engine.dispose()


def _populate_0007(conn) -> dict[str, int]:
    """Vouchers as 0007 left them (raw SQL: the models are at head), in a call with an
    implementation end and one without."""
    sqlite, meta = conn.dialect.name == "sqlite", sa.MetaData()

    def add(table: str, **values) -> int:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipped unsupported reflection")
            t = sa.Table(table, meta, autoload_with=conn)
        return conn.execute(t.insert().values(**values).returning(t.c.id)).scalar_one()

    def money(amount: str):
        return int(Decimal(amount) * 100) if sqlite else Decimal(amount)

    def at(moment: datetime):
        return moment.replace(tzinfo=None) if sqlite else moment

    opened = datetime(2026, 1, 5, 9, tzinfo=UTC)
    programme = add("programmes", name="Health vouchers", funder="Interreg NWE",
                    currency="EUR", total_budget=money("1240000"), starts_on=date(2026, 1, 1),
                    ends_on=date(2028, 12, 31), regions=[])
    calls, types = {}, {}
    for code, ends in (("OPEN", None), ("ENDS", date(2027, 9, 30))):
        calls[code] = add("calls", programme_id=programme, code=code, title=code,
                          description="", opens_at=at(opened),
                          closes_at=at(opened + timedelta(days=30)), created_at=at(opened),
                          allowed_sizes=["micro", "small", "medium"],
                          divergence_share=Decimal("0.3"), extra_evaluator_on_divergence=False,
                          implementation_ends_on=ends)
        for position, vt in enumerate(("travel", "market_validation", "impact")):
            types[code, vt] = add(
                "call_voucher_types", call_id=calls[code], voucher_type=vt, position=position,
                quota=12, max_amount=money("50000"), funding_rate=Decimal("1.0000"),
                envelope=money("600000"), committed=money("0"), awarded_count=0,
                score_scale=5, references_issued=0, provider_other_region=False,
                required_attachments=[])
    org = add("organisations", legal_name="Nordic Biotech ApS", registry_number="DK12345678",
              country="DK", region="Capital Region", size="small", sector="biotech",
              award_lock=0, created_at=at(opened))
    applicant = add("users", email="sme@test.example", name="Applicant", role="applicant",
                    enabled=True, session_generation=0, created_at=at(opened),
                    organisation_id=org)
    ids = {}
    # 22:30 UTC on 31 March is 00:30 on 1 April in Brussels: the award day is the
    # programme's.
    late_evening = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    for n, (name, state, code, vt, details, awarded_at) in enumerate((
            ("trip", "awarded", "OPEN", "travel", {"end_date": "2027-03-03"}, opened),
            ("typo", "reporting", "OPEN", "travel", {"end_date": "2207-03-03"}, opened),
            ("capped", "report_submitted", "ENDS", "market_validation",
             {"delivery_date": "9999-12-31"}, opened),
            ("period", "completed", "ENDS", "impact", {}, opened),
            ("award_day", "paid", "OPEN", "impact", {}, late_evening),
            ("before_award", "awarded", "OPEN", "market_validation",
             {"delivery_date": "2026-01-10"}, late_evening),
            ("garbled", "awarded", "OPEN", "travel", {"end_date": "3 March"}, late_evening),
            ("cancelled", "cancelled", "OPEN", "travel", {"end_date": "2027-03-03"}, opened),
            ("submitted", "submitted", "OPEN", "travel", {"end_date": "2027-03-03"}, None),
    ), 1):
        voucher = awarded_at is not None
        ids[name] = add(
            "applications", reference=f"{code}-{n:05d}", call_id=calls[code],
            call_voucher_type_id=types[code, vt], voucher_type=vt, organisation_id=org,
            applicant_id=applicant, title=name, summary="", details=details,
            requested_amount=money("1000"), awarded_amount=money("1000") if voucher else None,
            paid_amount=money("1000" if state == "paid" else "0"), state=state,
            review_count=1, decision_reason="", created_at=at(opened),
            submitted_at=at(opened), awarded_at=at(awarded_at) if voucher else None,
            decided_at=at(awarded_at) if voucher else None, version=3)
    return ids


def test_migration_0008_sets_the_report_deadline_of_vouchers_awarded_before_it(app_at_0007):
    with db.engine.begin() as conn:
        ids = _populate_0007(conn)

    migrate_up()

    due = {name: db.session.get(Application, i).report_due_on for name, i in ids.items()}
    days = timedelta(days=60)
    assert due == {
        "trip": date(2027, 3, 3) + days,
        "typo": date(2028, 12, 31) + days,  # capped at the programme's end
        "capped": date(2027, 9, 30) + days,  # at the call's implementation end
        "period": date(2027, 9, 30) + days,
        "award_day": date(2026, 4, 1) + days,
        "before_award": date(2026, 4, 1) + days,
        "garbled": date(2026, 4, 1) + days,
        "cancelled": None, "submitted": None,
    }
    # The same rule as an award today would apply.
    for name in ("trip", "typo", "capped", "period", "award_day", "before_award", "garbled"):
        voucher = db.session.get(Application, ids[name])
        assert deadlines.report_due_on(voucher, local_date(voucher.awarded_at)) == due[name]
