"""The forms of the ranking, the funding line and the reserve list: buttons that carry the
fingerprint of what the manager was shown (services/funding_line.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import InputRequired, Length, Regexp


def _fingerprint(missing: str) -> list:
    """A page's fingerprint of what it showed (a SHA-256 in hex), ``missing`` if absent."""
    return [InputRequired(missing), Regexp(r"^[0-9a-f]{64}$", message=missing)]


class ProposeForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Propose the funding line"))


class ConfirmForm(FlaskForm):
    fingerprint = HiddenField(validators=_fingerprint(
        lazy_gettext("The page was sent without the proposal it showed; recompute it and "
                     "confirm again.")))
    # Only for saying what changed when the fingerprint no longer matches.
    basis = HiddenField(validators=[Length(max=400_000)])
    submit = SubmitField(lazy_gettext("Confirm the funding line"))


class PromoteForm(FlaskForm):
    fingerprint = HiddenField(validators=_fingerprint(
        lazy_gettext("The page was sent without the reserve list it showed; reload it.")))
    submit = SubmitField(lazy_gettext("Promote"))
