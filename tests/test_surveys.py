"""Follow-up surveys (issue 14): due N calendar months after a voucher's last payment,
created and mailed once however often (and however concurrently) the step runs, reminded
of once, answered once by the company's own applicants, rolled up per voucher type."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from tests.factories import DEFAULT_TYPES
from tests.helpers import at_once, login
from tests.test_manager_calls import form_fields, page
from vouchers.clock import programme_zone, today
from vouchers.extensions import db
from vouchers.models import OutboxMessage, Payment
from vouchers.models.surveys import FollowUpSurvey
from vouchers.services import call_follow_up, payments, surveys
from vouchers.services.errors import NotAllowed
from vouchers.services.surveys import add_months
from vouchers.voucher_types import CODES


def noon(d: date) -> datetime:
    return datetime.combine(d, time(12), programme_zone()).astimezone(UTC)


def paid_voucher(make, call, voucher_type="impact", *, months_ago=7, applicant=None,
                 manager=None):
    """A paid voucher of ``call`` whose only payment was ``months_ago`` months ago."""
    application = make.application("paid", call.voucher_type(voucher_type),
                                   applicant=applicant, manager=manager)
    paid_on = add_months(today(), -months_ago)
    db.session.execute(update(Payment).where(Payment.application_id == application.id)
                       .values(paid_on=paid_on))
    db.session.commit()
    return application, paid_on


def run(at: datetime | None = None) -> surveys.SurveyRun:
    result = surveys.send_surveys(at or noon(today()))
    db.session.commit()
    return result


def survey_mails(kind: str = "survey_due") -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                   .order_by(OutboxMessage.id)))


@pytest.fixture
def call(make):
    # Room for more impact vouchers than the default quota of 3.
    call = make.call({**DEFAULT_TYPES, "impact": (10, "100000", "0.50", "1000000")})
    call.follow_up_months = [6, 24]
    db.session.commit()
    return call


# --- the calendar -----------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "months", "due"), [
    (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2027, 8, 31), 6, date(2028, 2, 29)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2026, 3, 15), 24, date(2028, 3, 15)),
    (date(2026, 12, 1), 1, date(2027, 1, 1)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
])
def test_due_on_is_calendar_months_after_the_payment(day, months, due):
    assert add_months(day, months) == due


@pytest.mark.parametrize(("text", "months", "problem"), [
    ("6, 24", [6, 24], None), ("24 6", [6, 24], None), ("", [], None), ("12;12", [12], None),
    ("6, six", [], "is not a number of months"), ("-6", [], "is not a number of months"),
    ("0", [0], "1 to 120 months"), ("121", [121], "1 to 120 months"),
    ("1, 2, 3, 4, 5", [1, 2, 3, 4, 5], "At most 4"),
])
def test_the_months_a_call_may_set(text, months, problem):
    parsed, problems = call_follow_up.parse_months(text)
    problems = problems or call_follow_up.months_problems(parsed)
    assert parsed == months
    assert (problem in " ".join(problems)) if problem else problems == []


def test_every_voucher_type_says_what_its_survey_asks():
    assert set(surveys.ASKED) == set(CODES)
    for asked in surveys.ASKED.values():
        assert asked and set(asked) <= set(surveys.QUESTIONS)
    # The impact voucher promised its indicators: it is asked all of them.
    assert set(surveys.ASKED["impact"]) == set(surveys.QUESTIONS)


# --- creating and mailing -----------------------------------------------------------------------


def test_a_survey_comes_due_n_months_after_the_last_payment_and_is_mailed_once(make, call):
    voucher, paid_on = paid_voucher(make, call, months_ago=7)
    colleague = make.applicant(voucher.organisation)
    disabled = make.applicant(voucher.organisation)
    disabled.enabled = False
    db.session.commit()

    assert run() == surveys.SurveyRun(created=1, reminded=0, mails=2)
    [survey] = db.session.scalars(select(FollowUpSurvey))
    assert (survey.application_id, survey.months, survey.due_on) == (
        voucher.id, 6, add_months(paid_on, 6))
    mails = survey_mails()
    assert sorted(m.to_address for m in mails) == sorted(
        [voucher.applicant.email, colleague.email])
    assert f"/apply/surveys/{survey.id}" in mails[0].body_text
    assert "Jobs created since the voucher was paid" in mails[0].body_text
    assert mails[0].subject == f"A short survey on your voucher {voucher.reference}"

    # The 24-month survey is not due yet, and nothing is created or mailed twice.
    assert run() == surveys.SurveyRun()
    assert run(noon(add_months(paid_on, 24))).created == 1
    assert db.session.scalar(select(func.count(FollowUpSurvey.id))) == 2
    assert len(survey_mails()) == 4


def test_not_due_before_the_day_nor_for_unpaid_calls_or_vouchers(make, call):
    voucher, paid_on = paid_voucher(make, call, months_ago=5)
    make.application("completed", call.voucher_type("impact"))  # approved, not paid
    other = make.call()  # no follow-up months
    paid_voucher(make, other, months_ago=30)
    assert run(noon(add_months(paid_on, 6) - timedelta(days=1))).created == 0
    assert run(noon(add_months(paid_on, 6))).created == 1


def test_a_reversed_payment_leaves_the_voucher_unsurveyed(make, call):
    manager = make.manager()
    voucher, _ = paid_voucher(make, call, months_ago=8, manager=manager)
    [payment] = db.session.scalars(select(Payment).where(Payment.application_id == voucher.id))
    payments.reverse_payment(payment, manager, "The bank returned it.")
    db.session.commit()
    assert voucher.state == "completed"
    assert run().created == 0


def test_two_runs_at_once_create_and_mail_each_survey_once(app, make, call):
    for _ in range(3):
        paid_voucher(make, call, "market_validation", months_ago=7)
    at = noon(today())
    outcomes = at_once(app, [lambda: surveys.send_surveys(at)] * 2)
    assert all(isinstance(o, surveys.SurveyRun) for o in outcomes), outcomes
    assert sorted(o.created for o in outcomes) == [0, 3]
    assert db.session.scalar(select(func.count(FollowUpSurvey.id))) == 3
    assert len(survey_mails()) == 3


def test_one_reminder_after_the_configured_days_unless_answered(app, make, call):
    app.config["SURVEY_REMINDER_DAYS"] = 10
    try:
        open_one, _ = paid_voucher(make, call, months_ago=7)
        answered, _ = paid_voucher(make, call, "travel", months_ago=7)
        start = noon(today())
        run(start)
        survey = db.session.scalar(select(FollowUpSurvey).where(
            FollowUpSurvey.application_id == answered.id))
        surveys.answer(survey, answered.applicant, {"market_entry": True,
                                                    "follow_on_investment": Decimal("0")})
        db.session.commit()

        assert run(start + timedelta(days=9)).reminded == 0
        assert run(start + timedelta(days=10)) == surveys.SurveyRun(reminded=1, mails=1)
        assert run(start + timedelta(days=40)).reminded == 0
        [reminder] = survey_mails("survey_reminder")
        assert reminder.to_address == open_one.applicant.email
        assert "the only reminder" in reminder.body_text
    finally:
        del app.config["SURVEY_REMINDER_DAYS"]


def test_send_reminders_runs_the_survey_step(runner, make, call):
    paid_voucher(make, call, months_ago=7)
    first = runner.invoke(args=["send-reminders"])
    assert first.exit_code == 0, first.output
    assert first.output.strip().endswith(", 1 survey and 0 survey reminders (1 mail)")
    second = runner.invoke(args=["send-reminders"])
    assert "survey" not in second.output


# --- answering ----------------------------------------------------------------------------------


@pytest.fixture
def due(make, call):
    voucher, _ = paid_voucher(make, call, "impact", months_ago=7)
    run()
    survey = db.session.scalar(select(FollowUpSurvey))
    return voucher, survey


IMPACT_ANSWERS = {"jobs_created": "3", "turnover_change": "-1250.50",
                  "market_entry": "yes", "certification": "no",
                  "follow_on_investment": "250000", "comment": "A payer signed."}


def test_the_company_answers_its_survey_once(client, make, due):
    voucher, survey = due
    login(client, voucher.applicant)
    home = client.get("/apply/").get_data(as_text=True)
    assert f"/apply/surveys/{survey.id}" in home
    page = client.get(f"/apply/surveys/{survey.id}").get_data(as_text=True)
    for question in surveys.questions_of("impact"):
        assert question.label in page

    response = client.post(f"/apply/surveys/{survey.id}", data=IMPACT_ANSWERS)
    assert response.status_code == 303
    db.session.refresh(survey)
    assert survey.answered_at is not None
    assert (survey.jobs_created, survey.turnover_change, survey.market_entry,
            survey.certification, survey.follow_on_investment, survey.comment) == (
        3, Decimal("-1250.50"), True, False, Decimal("250000.00"), "A payer signed.")
    assert f"/apply/surveys/{survey.id}" not in client.get("/apply/").get_data(as_text=True)

    again = client.post(f"/apply/surveys/{survey.id}", data={**IMPACT_ANSWERS,
                                                              "jobs_created": "9"})
    assert again.status_code == 422
    assert "answers are given once and cannot be changed" in again.get_data(as_text=True)
    db.session.refresh(survey)
    assert survey.jobs_created == 3
    shown = client.get(f"/apply/surveys/{survey.id}").get_data(as_text=True)
    assert "Answered on" in shown and "−€1,250.50" in shown


@pytest.mark.parametrize(("field", "value", "message"), [
    ("jobs_created", "-1", "Give a whole number"),
    ("jobs_created", "two", "Give a whole number"),
    ("jobs_created", "", "Answer this question."),
    ("turnover_change", "12,5", "with a dot for cents"),
    ("follow_on_investment", "-5", "cannot be negative"),
    ("market_entry", "", "Answer yes or no."),
    ("certification", "maybe", "Not a valid choice"),
])
def test_answers_are_checked_with_messages(client, due, field, value, message):
    voucher, survey = due
    login(client, voucher.applicant)
    response = client.post(f"/apply/surveys/{survey.id}",
                           data={**IMPACT_ANSWERS, field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(survey)
    assert survey.answered_at is None


def test_a_travel_survey_asks_only_what_a_trip_is_for(client, make, call):
    voucher, _ = paid_voucher(make, call, "travel", months_ago=7)
    run()
    survey = db.session.scalar(select(FollowUpSurvey))
    login(client, voucher.applicant)
    page = client.get(f"/apply/surveys/{survey.id}").get_data(as_text=True)
    assert "Jobs created" not in page and "new market" in page
    response = client.post(f"/apply/surveys/{survey.id}",
                           data={"market_entry": "no", "follow_on_investment": "0"})
    assert response.status_code == 303
    db.session.refresh(survey)
    assert (survey.market_entry, survey.jobs_created, survey.certification) == (
        False, None, None)


def test_only_the_vouchers_company_sees_its_survey(client, make, due):
    voucher, survey = due
    for outsider in (make.applicant(), make.manager(), make.evaluator()):
        login(client, outsider)
        assert client.get(f"/apply/surveys/{survey.id}").status_code == 404
        assert client.post(f"/apply/surveys/{survey.id}",
                           data=IMPACT_ANSWERS).status_code == 404
    db.session.refresh(survey)
    assert survey.answered_at is None
    # The service asks the policy too, whoever calls it.
    with pytest.raises(NotAllowed):
        surveys.answer(survey, make.applicant(), {})


def test_two_answers_at_once_keep_one(app, due):
    voucher, survey = due
    answers = {"jobs_created": 1, "turnover_change": Decimal("1"), "market_entry": True,
               "certification": True, "follow_on_investment": Decimal("1")}
    survey_id, user_id = survey.id, voucher.applicant_id

    def load():
        from vouchers.models import User
        return db.session.get(FollowUpSurvey, survey_id), db.session.get(User, user_id)

    def act(loaded):
        surveys.answer(*loaded, answers)
        return "answered"

    outcomes = at_once(app, [(load, act)] * 2)
    assert sorted(outcomes)[0] == "answered"
    assert len([o for o in outcomes if o == "answered"]) == 1, outcomes
    assert re.search(r"refused: This survey was answered", sorted(outcomes)[1]), outcomes


# --- the roll-up and the dashboard ----------------------------------------------------------------


def answered(make, call, voucher_type, months_ago=7, **answers):
    voucher, _ = paid_voucher(make, call, voucher_type, months_ago=months_ago)
    run()
    survey = db.session.scalar(select(FollowUpSurvey).where(
        FollowUpSurvey.application_id == voucher.id, FollowUpSurvey.months == 6))
    if answers:
        surveys.answer(survey, voucher.applicant, answers)
        db.session.commit()
    return survey


def test_the_roll_up_per_voucher_type_and_round(client, make, call):
    answered(make, call, "impact", jobs_created=2, turnover_change=Decimal("1000.10"),
             market_entry=True, certification=False, follow_on_investment=Decimal("0.07"))
    answered(make, call, "impact", jobs_created=1, turnover_change=Decimal("-0.30"),
             market_entry=True, certification=True, follow_on_investment=Decimal("5000.01"))
    answered(make, call, "impact")  # sent, not answered
    answered(make, call, "travel", market_entry=False, follow_on_investment=Decimal("10"))
    answered(make, call, "impact", months_ago=25)  # its 6- and 24-month surveys both due

    figures = {(f.voucher_type, f.months): f for f in surveys.roll_up(db.session, call.id)}
    assert list(figures) == [("travel", 6), ("impact", 6), ("impact", 24)]
    impact = figures[("impact", 6)]
    assert (impact.sent, impact.answered, impact.jobs_created, impact.market_entries,
            impact.certifications) == (4, 2, 3, 2, 1)
    assert (impact.turnover_change, impact.follow_on_investment) == (
        Decimal("999.80"), Decimal("5000.08"))
    travel = figures[("travel", 6)]
    assert (travel.jobs_created, travel.certifications, travel.market_entries,
            travel.follow_on_investment) == (None, None, 0, Decimal("10.00"))
    assert (figures[("impact", 24)].sent, figures[("impact", 24)].answered) == (1, 0)

    manager = make.manager()
    login(client, manager)
    page = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)
    row = re.search(r'<tr data-type="impact" data-months="6">(.*?)</tr>', page, re.S).group(1)
    cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    assert [c.strip() for c in cells[:5]] == ["6", "4", "2", "3", "€999.80"]


def test_the_dashboard_says_when_no_survey_is_asked(client, make):
    call = make.call()
    login(client, make.manager())
    page = client.get(f"/manage/calls/{call.id}/dashboard").get_data(as_text=True)
    assert "This call asks no follow-up surveys" in page


# --- the call's follow-up months --------------------------------------------------------------


def _edit_post(client, call, months: str):
    fields = form_fields(page(client.get(f"/manage/calls/{call.id}/edit")))
    return client.post(f"/manage/calls/{call.id}/edit",
                       data={**fields, "follow_up_months": months})


def test_a_manager_sets_the_follow_up_months_on_the_call_form(client, make):
    call = make.call()
    login(client, make.manager())
    page = client.get(f"/manage/calls/{call.id}/edit").get_data(as_text=True)
    assert 'name="follow_up_months"' in page
    refused = _edit_post(client, call, "6, 0")
    assert refused.status_code == 400
    assert "1 to 120 months" in refused.get_data(as_text=True)
    saved = _edit_post(client, call, "24, 6")
    assert saved.status_code == 303, saved.get_data(as_text=True)[:3000]
    db.session.refresh(call)
    assert call.follow_up_months == [6, 24]
    assert 'value="6, 24"' in client.get(f"/manage/calls/{call.id}/edit").get_data(as_text=True)
