"""The form of the account page's "API tokens" section: a new personal access token."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..services.api_tokens import DEFAULT_DAYS, MAX_DAYS

READ, WRITE = "read", "write"


class NewTokenForm(FlaskForm):
    name = StringField(lazy_gettext("Name"),
                       description=lazy_gettext(
                           "What uses the token: \"invoicing script\", say."),
                       validators=[DataRequired(lazy_gettext(
                           "Give the token a name, so you know later what uses it.")),
                                   Length(max=200, message=lazy_gettext(
                                       "At most 200 characters."))],
                       render_kw={"autocomplete": "off", "maxlength": 200})
    scope = RadioField(lazy_gettext("What may the token do?"), default=READ, choices=[
        SelectChoice(READ, lazy_gettext("Read only")),
        SelectChoice(WRITE, lazy_gettext(
            "Read and write (submit, review, decide: whatever you may do)")),
    ], validators=[InputRequired(lazy_gettext("Choose what the token may do."))])
    days = IntegerField(lazy_gettext("Lifetime in days"), default=DEFAULT_DAYS,
                        description=lazy_gettext(
                            "From 1 to %(most)s days; it stops working then.", most=MAX_DAYS),
                        validators=[InputRequired(lazy_gettext(
                            "Give a lifetime from 1 to %(most)s days.", most=MAX_DAYS)),
                                    NumberRange(min=1, max=MAX_DAYS, message=lazy_gettext(
                                        "From 1 to %(most)s days.", most=MAX_DAYS))],
                        render_kw={"min": 1, "max": MAX_DAYS, "inputmode": "numeric"})
    submit = SubmitField(lazy_gettext("Create the token"))
