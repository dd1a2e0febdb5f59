"""The form of the account page's "API tokens" section: a new personal access token."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..services.api_tokens import DEFAULT_DAYS, MAX_DAYS

READ, WRITE = "read", "write"


class NewTokenForm(FlaskForm):
    name = StringField("Name", description="What uses the token: \"invoicing script\", say.",
                       validators=[DataRequired("Give the token a name, so you know later "
                                                "what uses it."),
                                   Length(max=200, message="At most 200 characters.")],
                       render_kw={"autocomplete": "off", "maxlength": 200})
    scope = RadioField("What may the token do?", default=READ, choices=[
        SelectChoice(READ, "Read only"),
        SelectChoice(WRITE, "Read and write (submit, review, decide: whatever you may do)"),
    ], validators=[InputRequired("Choose what the token may do.")])
    days = IntegerField("Lifetime in days", default=DEFAULT_DAYS,
                        description=f"From 1 to {MAX_DAYS} days; it stops working then.",
                        validators=[InputRequired(f"Give a lifetime from 1 to {MAX_DAYS} days."),
                                    NumberRange(min=1, max=MAX_DAYS,
                                                message=f"From 1 to {MAX_DAYS} days.")],
                        render_kw={"min": 1, "max": MAX_DAYS, "inputmode": "numeric"})
    submit = SubmitField("Create the token")
