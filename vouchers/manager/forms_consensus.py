"""The consensus form: one score (or "not applicable") and a note per criterion, a comment."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..evaluator.forms import NOT_APPLICABLE, score_field, score_field_name, score_value
from ..models import Consensus, Criterion
from ..services.consensus import MAX_COMMENT


class ConsensusForm(FlaskForm):
    """The fixed part; consensus_form() adds a score and a note field per criterion."""

    comment = TextAreaField(
        lazy_gettext("How the evaluators agreed"),
        description=lazy_gettext("Say what the consensus rests on, especially where the scores "
                                 "differed."),
        validators=[InputRequired(lazy_gettext("Write a comment.")), Length(max=MAX_COMMENT)],
    )

    criteria: list[Criterion] = []

    def rows(self):
        """(criterion, its score field, its note field), in the call's order."""
        return [(c, self[score_field_name(c)], self[f"note_{c.id}"]) for c in self.criteria]

    def scores(self) -> dict[int, int | None]:
        return {c.id: score_value(score) for c, score, _ in self.rows()}

    def notes(self) -> dict[int, str]:
        return {c.id: note.data or "" for c, _, note in self.rows()}


def consensus_form(criteria: list[Criterion], scale: int, consensus: Consensus | None = None,
                   **kwargs) -> ConsensusForm:
    """The form for these criteria; until posted, filled in with the consensus recorded."""

    class _Form(ConsensusForm):
        pass

    for criterion in criteria:
        setattr(_Form, score_field_name(criterion), score_field(criterion, scale))
        setattr(_Form, f"note_{criterion.id}", TextAreaField(
            gettext("Note on %(criterion)s", criterion=criterion.name),
            validators=[Optional(), Length(max=MAX_COMMENT)]))
    _Form.criteria = list(criteria)
    form = _Form(**kwargs)
    if consensus is not None and not form.is_submitted():
        form.comment.data = consensus.comment
        for s in consensus.scores:
            if (name := f"score_{s.criterion_id}") in form:
                form[name].data = (
                    NOT_APPLICABLE if s.score is None else str(s.score))
                form[f"note_{s.criterion_id}"].data = s.comment
    return form
