"""Authorization-matrix cases of issue 14's follow-up surveys; see tests/matrix_cases.py.

``world_args`` gives the world a survey due on a paid voucher of the world's applicant
(``survey_id``): its page is that company's alone. The case answers one.
"""

from __future__ import annotations

from tests.matrix_cases import Post, case, url
from vouchers.clock import today
from vouchers.extensions import db
from vouchers.models.surveys import FollowUpSurvey


def due_survey(make, applicant=None) -> FollowUpSurvey:
    """A 6-month survey, due today, of a paid impact voucher (of ``applicant``'s company)."""
    voucher = make.application("paid", make.call().voucher_type("impact"), applicant=applicant)
    survey = FollowUpSurvey(application_id=voucher.id, months=6, due_on=today())
    db.session.add(survey)
    db.session.commit()
    return survey


def world_args(make, users: dict, args: dict) -> dict:
    return {"survey_id": due_survey(make, users["applicant"]).id}


@case("applicant.survey")
def _(make):
    survey = due_survey(make)
    survey_id = survey.id
    return Post("applicant", survey.application.applicant,
                url("applicant.survey", survey_id=survey_id),
                data={"jobs_created": "2", "turnover_change": "-100.50", "market_entry": "yes",
                      "certification": "no", "follow_on_investment": "0"},
                done=lambda: db.session.get(FollowUpSurvey, survey_id).answered_at is not None)
