"""Forms of two-factor sign-in: a code (the login's second step, confirming an
authenticator, renewing recovery codes, turning it off) and a manager's reset. The
programme's rule for evaluators is in manager/forms_programmes.py."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..services.totp import MAX_CODE_LENGTH


def _code_field(label: str, description: str) -> StringField:
    # Length only: what a code looks like (six digits, or a recovery code) is the
    # service's to say, with the same message whatever was typed.
    return StringField(label, description=description, validators=[
        DataRequired(lazy_gettext("Type the code.")),
        Length(max=MAX_CODE_LENGTH, message=lazy_gettext("That code is too long."))],
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false",
                   "autocapitalize": "off"})


class SignInCodeForm(FlaskForm):
    """The login's second step: the app's code, or a recovery code instead."""

    code = _code_field(lazy_gettext("Code"),
                       lazy_gettext("The 6-digit code your authenticator app shows now, or one "
                                    "of your recovery codes."))
    submit = SubmitField(lazy_gettext("Continue"))


class ConfirmAuthenticatorForm(FlaskForm):
    code = _code_field(lazy_gettext("Code from your app"),
                       lazy_gettext("The 6-digit code the app shows for this account after "
                                    "you added it."))
    submit = SubmitField(lazy_gettext("Turn on two-factor sign-in"))


class CurrentCodeForm(FlaskForm):
    """Confirms a change to the second factor itself with a current code, so a session
    left open is not enough to take it away or read new recovery codes."""

    code = _code_field(lazy_gettext("Current code"),
                       lazy_gettext("A code from your app (or a recovery code)."))
    submit = SubmitField(lazy_gettext("Confirm"))


class ResetSecondFactorForm(FlaskForm):
    reason = TextAreaField(lazy_gettext("Reason (optional)"),
                           validators=[Optional(), Length(max=500)],
                           description=lazy_gettext(
                               "Kept with the record of who reset it, e.g. “lost phone, "
                               "identity checked by telephone”."))
    submit = SubmitField(lazy_gettext("Reset two-factor sign-in"))
