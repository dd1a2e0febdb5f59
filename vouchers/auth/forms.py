"""Forms for logging in, registering, passwords, invitations and account actions."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from .. import i18n
from ..services import passwords

# A light check for typing mistakes; the service repeats it. WTForms' Email validator
# would need the email_validator package for no better answer here.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _email_field(label: str = lazy_gettext("E-mail address")) -> EmailField:
    return EmailField(label, validators=[
        DataRequired(lazy_gettext("Give your e-mail address.")),
        Length(max=254),
        Regexp(EMAIL_PATTERN, message=lazy_gettext(
            "Give a valid e-mail address, like name@example.org.")),
    ], render_kw={"autocomplete": "email", "spellcheck": "false"})


def _new_password_field(label: str) -> PasswordField:
    return PasswordField(label, validators=[DataRequired(lazy_gettext("Choose a password."))],
                         description=lazy_gettext(
                             "At least %(count)s characters. Several unrelated words make a "
                             "strong password.", count=passwords.MIN_PASSWORD_LENGTH),
                         render_kw={"autocomplete": "new-password",
                                    "minlength": passwords.MIN_PASSWORD_LENGTH})


def _confirm_field(of: str) -> PasswordField:
    return PasswordField(lazy_gettext("Repeat the password"), validators=[
        DataRequired(lazy_gettext("Repeat the password.")),
        EqualTo(of, message=lazy_gettext("The two passwords differ.")),
    ], render_kw={"autocomplete": "new-password"})


class PolicyMixin:
    """Shows why the password policy refuses a password next to the password field."""

    policy_field = "password"

    def _policy_identity(self) -> tuple[str, str]:
        return "", ""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        field = self[self.policy_field]
        if field.data and not field.errors:
            email, name = self._policy_identity()
            problem = passwords.password_problem(field.data, email=email, name=name)
            if problem:
                field.errors.append(problem)
                valid = False
        return valid


class LoginForm(FlaskForm):
    email = EmailField(lazy_gettext("E-mail address"),
                       validators=[DataRequired(lazy_gettext("Give your e-mail address.")),
                                   Length(max=254)],
                       render_kw={"autocomplete": "username", "spellcheck": "false"})
    password = PasswordField(lazy_gettext("Password"),
                             validators=[DataRequired(lazy_gettext("Give your password.")),
                                         Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(lazy_gettext("Log in"))


class RegisterForm(PolicyMixin, FlaskForm):
    name = StringField(lazy_gettext("Your name"),
                       validators=[DataRequired(lazy_gettext("Give your name.")),
                                   Length(max=200)],
                       render_kw={"autocomplete": "name"})
    email = _email_field()
    password = _new_password_field(lazy_gettext("Password"))
    confirm = _confirm_field("password")
    # Recorded as a ConsentRecord (services/logins.register): the version read is kept.
    privacy_notice = BooleanField(
        lazy_gettext("I have read the privacy notice: how the programme uses my data and how "
                     "long it keeps it."),
        validators=[DataRequired(lazy_gettext("Read the privacy notice and tick the box."))])
    submit = SubmitField(lazy_gettext("Create my account"))

    # Whether the address is taken is the service's answer (services/logins.register),
    # so probing for accounts is throttled there.
    def _policy_identity(self):
        return self.email.data or "", self.name.data or ""


class ChangePasswordForm(PolicyMixin, FlaskForm):
    policy_field = "new_password"

    current_password = PasswordField(lazy_gettext("Current password"),
                                     validators=[DataRequired(
                                         lazy_gettext("Give your current password.")),
                                                 Length(max=1024)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = _new_password_field(lazy_gettext("New password"))
    confirm = _confirm_field("new_password")
    submit = SubmitField(lazy_gettext("Change password"))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._user = user

    def _policy_identity(self):
        return self._user.email, self._user.name


class AcceptInvitationForm(PolicyMixin, FlaskForm):
    password = _new_password_field(lazy_gettext("Choose a password"))
    confirm = _confirm_field("password")
    submit = SubmitField(lazy_gettext("Set password and log in"))

    def __init__(self, invitation, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._invitation = invitation

    def _policy_identity(self):
        return self._invitation.email, self._invitation.name


def _known_language(form, field) -> None:
    if field.data and field.data not in i18n.LANGUAGES:
        raise ValidationError(lazy_gettext("Choose one of the languages the programme "
                                           "speaks."))


class InviteForm(FlaskForm):
    name = StringField(lazy_gettext("Name"),
                       validators=[DataRequired(lazy_gettext("Give the person's name.")),
                                   Length(max=200)])
    email = _email_field()
    role = SelectField(lazy_gettext("Role"),
                       choices=[SelectChoice("evaluator", lazy_gettext("Evaluator")),
                                SelectChoice("manager", lazy_gettext("Manager"))])
    # Each language in its own name, as the picker shows it (vouchers/i18n.py). Not
    # sent (an older form, a script): the inviting manager's own, as the service decides.
    language = SelectField(lazy_gettext("Language"),
                           description=lazy_gettext("The invitation's e-mail is written in "
                                                    "it, and the new account starts in it."),
                           choices=[SelectChoice(code, name, render_kw={"lang": code})
                                    for code, name in i18n.LANGUAGES.items()],
                           validate_choice=False, validators=[_known_language])
    submit = SubmitField(lazy_gettext("Create invitation"))


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token to check."""


class DisableForm(FlaskForm):
    """The confirmation step of disabling an account (a page, so it works without
    JavaScript); the reason is kept in the account's change record."""

    reason = TextAreaField(lazy_gettext("Reason (optional)"),
                           validators=[Optional(), Length(max=500)],
                           description=lazy_gettext(
                               "Kept with the record of who disabled the account."))
    submit = SubmitField(lazy_gettext("Disable the account"))
