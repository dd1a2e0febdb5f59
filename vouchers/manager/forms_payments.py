"""The forms of the payments pages: preparing a SEPA batch, marking it executed, cancelling.

The forms parse (ids, dates, a reference); services/payment_batches.py decides whether
the payments are due, the dates acceptable and the batch still open, with its messages.
"""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateField, Field, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from ..clock import today
from ..models.base import MAX_ID
from ..services.payment_batches import MAX_BANK_REFERENCE

_DATE = lazy_gettext("Give the date as YYYY-MM-DD.")


class IdsField(Field):
    """The ticked checkboxes of a table: each posts ``name=<id>``; read as a list of ids."""

    def process_formdata(self, valuelist):
        self.data = []
        for value in valuelist:
            text = (value or "").strip()
            if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
                self.data = []
                raise ValueError(gettext("The selection holds something that is not a voucher; "
                                         "reload the page and select again."))
            self.data.append(int(text))

    def _value(self) -> str:
        return ""


class PrepareBatchForm(FlaskForm):
    application_ids = IdsField(lazy_gettext("Payments"), default=list)
    execution_date = DateField(
        lazy_gettext("Execution date"), validators=[InputRequired(_DATE)], default=today,
        invalid_value_message=_DATE,
        description=lazy_gettext("The day the bank should pay: today or later, a business day "
                                 "(a bank moves a weekend or a TARGET2 holiday to the next "
                                 "business day)."))
    submit = SubmitField(lazy_gettext("Prepare SEPA file"))


class ExecuteBatchForm(FlaskForm):
    bank_reference = StringField(
        lazy_gettext("Bank reference"), validators=[
            InputRequired(lazy_gettext("Give the bank's reference of the executed transfers.")),
            Length(max=MAX_BANK_REFERENCE)],
        description=lazy_gettext("As the bank's statement or confirmation names the executed "
                                 "file."))
    executed_on = DateField(lazy_gettext("Executed on"), validators=[InputRequired(_DATE)],
                            default=today, invalid_value_message=_DATE)
    submit = SubmitField(lazy_gettext("Mark executed"))


class CancelBatchForm(FlaskForm):
    submit = SubmitField(lazy_gettext("Cancel batch"))
