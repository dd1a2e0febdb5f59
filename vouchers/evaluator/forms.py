"""Forms of the evaluator's pages: confirming no conflict or declaring one, and scoring."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from ..models import Criterion

NOT_APPLICABLE = "na"
RECOMMENDATION_CHOICES = [
    SelectChoice("award", lazy_gettext("Award")),
    SelectChoice("waitlist", lazy_gettext("Waitlist: good, if budget allows")),
    SelectChoice("reject", lazy_gettext("Reject")),
]


class ConfirmForm(FlaskForm):
    """"I have no conflict of interest": a button, the CSRF token its only field."""


class ConflictForm(FlaskForm):
    reason = TextAreaField(
        lazy_gettext("Why you have a conflict of interest"),
        description=lazy_gettext(
            "For example: I advise this company, or I work for a competitor."),
        # DataRequired: a reason of blanks is no reason (the service refuses it too).
        validators=[DataRequired(lazy_gettext(
                        "Say briefly why you have a conflict of interest.")),
                    Length(max=2000)],
    )


class ReviewForm(FlaskForm):
    """The fixed part of a review; review_form() adds one score field per criterion."""

    comment = TextAreaField(lazy_gettext("Comment"), validators=[
        InputRequired(lazy_gettext("Write a comment.")), Length(max=10000)])
    recommendation = RadioField(lazy_gettext("Recommendation"), choices=RECOMMENDATION_CHOICES,
                                validators=[InputRequired(
                                    lazy_gettext("Choose a recommendation."))])

    criteria: list[Criterion] = []

    def score_fields(self):
        """(criterion, its score field) pairs, in the call's order."""
        return [(c, self[score_field_name(c)]) for c in self.criteria]

    def scores(self) -> dict[int, int | None]:
        """Each criterion's score; None where the evaluator chose "not applicable"."""
        return {c.id: score_value(field) for c, field in self.score_fields()}


def score_field_name(criterion: Criterion) -> str:
    return f"score_{criterion.id}"


def score_field(criterion: Criterion, scale: int) -> RadioField:
    """A criterion's score, 0..scale or "not applicable": in a review and in a consensus."""
    choices = [SelectChoice(str(i)) for i in range(scale + 1)]
    choices.append(SelectChoice(NOT_APPLICABLE, lazy_gettext("Not applicable")))
    return RadioField(criterion.name, choices=choices, validators=[
        InputRequired(lazy_gettext("Give a score or choose “not applicable”."))])


def score_value(field) -> int | None:
    """What a score field holds: the score, or None for "not applicable"."""
    return None if field.data == NOT_APPLICABLE else int(field.data)


def review_form(criteria: list[Criterion], scale: int, **kwargs) -> ReviewForm:
    """A review form for these criteria, each scored 0..scale or "not applicable"."""

    class _Form(ReviewForm):
        pass

    for criterion in criteria:
        setattr(_Form, score_field_name(criterion), score_field(criterion, scale))
    _Form.criteria = list(criteria)
    return _Form(**kwargs)
