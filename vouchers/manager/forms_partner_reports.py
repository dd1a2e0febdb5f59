"""The manager's forms for partner reports: opening the next period, submitting one.
The service (services/partner_reports.py) checks the dates and the state."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField
from wtforms.validators import DataRequired, InputRequired

FREEZE_TEXT = lazy_gettext("I understand that submitting freezes this period: its lines can "
                           "no longer change, and a correction booked later is declared in "
                           "the next period.")


class OpenPeriodForm(FlaskForm):
    period_end = DateField(
        lazy_gettext("The period ends on"), id="period-end",
        validators=[InputRequired(lazy_gettext("Give the day the period ends (YYYY-MM-DD)."))],
        format="%Y-%m-%d", invalid_value_message=lazy_gettext("Give the date as YYYY-MM-DD."),
        description=lazy_gettext("It starts the day after the previous period ends (the "
                                 "programme's start for the first)."))


class SubmitReportForm(FlaskForm):
    # Without JavaScript a confirmation is a box to tick: the page says what it freezes.
    confirm = BooleanField(FREEZE_TEXT, id="confirm-freeze", validators=[
        DataRequired(lazy_gettext("Tick the box to confirm that submitting freezes the "
                                  "period."))])


class PeriodEndForm(FlaskForm):
    period_end = DateField(
        lazy_gettext("The period ends on"), id="change-period-end",
        validators=[InputRequired(lazy_gettext("Give the day the period ends (YYYY-MM-DD)."))],
        format="%Y-%m-%d", invalid_value_message=lazy_gettext("Give the date as YYYY-MM-DD."),
        description=lazy_gettext("Until it is submitted, a draft's end may move; its lines "
                                 "follow."))
