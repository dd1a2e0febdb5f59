"""The form of accepting an exception to an eligibility rule (one per failing rule)."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from ..services.eligibility import MAX_REASON


def exception_key(rule_code: str) -> str:
    """The form's name among the application page's forms (and its errors)."""
    return f"exception-{rule_code}"


def prefix_of(rule_code: str) -> str:
    """Each failing rule has its own form on the page: its fields' names and ids differ."""
    return f"accept-{rule_code}"


class AcceptExceptionForm(FlaskForm):
    # The service says so when the reason is missing, as it does for the CLI.
    reason = TextAreaField(lazy_gettext("Why the programme accepts the application anyway"),
                           [Length(max=MAX_REASON, message=lazy_gettext(
                               "Keep the reason to at most %(max)s characters.",
                               max=format(MAX_REASON, ",")))],
                           render_kw={"required": True, "rows": 3})
