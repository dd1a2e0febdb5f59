"""Forms of the accounts-by-e-mail pages: asking for a reset link, setting a new password
through it, changing the e-mail address."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from .forms import PolicyMixin, _confirm_field, _email_field, _new_password_field


class RequestResetForm(FlaskForm):
    email = _email_field()
    submit = SubmitField(lazy_gettext("Send me a link"))


class NewPasswordForm(PolicyMixin, FlaskForm):
    password = _new_password_field(lazy_gettext("New password"))
    confirm = _confirm_field("password")
    submit = SubmitField(lazy_gettext("Set the new password"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._user = user

    def _policy_identity(self):
        return (self._user.email, self._user.name) if self._user is not None else ("", "")


class ChangeEmailForm(FlaskForm):
    new_email = _email_field(lazy_gettext("New e-mail address"))
    current_password = PasswordField(lazy_gettext("Current password"),
                                     validators=[DataRequired(
                                         lazy_gettext("Give your current password.")),
                                                 Length(max=1024)],
                                     render_kw={"autocomplete": "current-password"})
    submit = SubmitField(lazy_gettext("Send a confirmation link"))
