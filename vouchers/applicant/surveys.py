"""The applicant's follow-up surveys: what a paid voucher led to (services/surveys.py).

The mail of a survey links here; the applicant's home lists the surveys still to answer
(templates/applicant/_surveys.html, through ``open_surveys``). The form asks the questions
of the voucher's type only; the service checks the answers again and takes them once.
"""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import format_number, lazy_gettext
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from .. import policy
from ..boundary import by_id, route, see_other
from ..fields import CountField, MoneyField, not_negative
from ..models.surveys import FollowUpSurvey
from ..money import parse_amount
from ..services import surveys
from .blueprint import bp

YES_NO = [SelectChoice("yes", lazy_gettext("Yes")), SelectChoice("no", lazy_gettext("No"))]


class SignedMoneyField(MoneyField):
    """An amount that may be negative (a turnover that fell): "-5000" or "−5000"."""

    def parse(self, text: str):
        if text[:1] in ("-", "\u2212"):
            return -parse_amount(text[1:].strip())
        return super().parse(text)


def _field(question: surveys.Question):
    # The questions are English in services/surveys.py, translated where they are shown.
    label = _(question.label)
    description = _(question.description) if question.description else ""
    required = InputRequired(_("Answer this question."))
    if question.kind == surveys.COUNT:
        return CountField(label, description=description, validators=[
            required, NumberRange(max=surveys.MOST_JOBS,
                                  message=_("At most %(count)s.",
                                            count=format_number(surveys.MOST_JOBS)))])
    if question.kind == surveys.MONEY:
        if question.key == surveys.TURNOVER:
            return SignedMoneyField(label, description=description, validators=[required])
        return MoneyField(label, description=description,
                          validators=[required, not_negative])
    return RadioField(label, choices=YES_NO, description=description,
                      validators=[InputRequired(_("Answer yes or no."))])


def _comment_field():
    return TextAreaField(
        _("Anything else the programme should know (optional)"),
        validators=[Length(max=surveys.MAX_COMMENT,
                           message=_("At most %(count)s characters.",
                                     count=format_number(surveys.MAX_COMMENT)))])


class _SurveyForm(FlaskForm):
    questions: tuple[surveys.Question, ...] = ()

    def asked(self):
        """(question, its field) in the order the type asks them."""
        return [(q, self[q.key]) for q in self.questions]

    def answers(self) -> dict:
        return {q.key: (f.data == "yes" if q.kind == surveys.YES_NO else f.data)
                for q, f in self.asked()}


def survey_form(survey: FollowUpSurvey) -> _SurveyForm:
    """The form of the questions the voucher's type is asked."""
    questions = surveys.questions_of(survey.application.voucher_type)
    form_class = type("SurveyForm", (_SurveyForm,), {
        "questions": questions, "comment": _comment_field(),
        **{q.key: _field(q) for q in questions}})
    return form_class()


def _page(form: _SurveyForm, survey: FollowUpSurvey, error: str | None = None):
    answered = [(q, surveys.describe_answer(q, getattr(survey, q.key)))
                for q in surveys.questions_of(survey.application.voucher_type)]
    return render_template("applicant/survey.html", form=form, survey=survey, error=error,
                           application=survey.application, answered=answered)


@bp.context_processor
def _open_surveys():
    return {"open_surveys": lambda: surveys.open_surveys_of(current_user)}


@route(bp, "/surveys/<int:survey_id>", permission=policy.can_answer_survey,
       load={"survey": by_id(FollowUpSurvey)}, form=survey_form, render=_page)
def survey(form: _SurveyForm, survey: FollowUpSurvey):
    surveys.answer(survey, current_user, form.answers(), form.comment.data or "")
    flash(_("Thank you: your answers are recorded."), "success")
    return see_other("applicant.home")
