"""The manager's forms for a company's bank details: giving them, and deciding a change an
applicant asked for. The service (services/bank_details.py) checks the details."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length

from ..applicant.forms_company import BankDetailsForm
from ..services.organisations import MAX_REASON

# Where a decision was taken, and where the manager goes back to.
BACK_TO = ("list", "company")


class ManagerBankDetailsForm(BankDetailsForm):
    """A manager's change applies at once, so it says where the details come from."""

    reason = TextAreaField(
        lazy_gettext("Where do the new details come from?"), id="bank-reason",
        validators=[InputRequired(lazy_gettext("Say where the new bank details come from.")),
                    Length(max=MAX_REASON)],
        description=lazy_gettext("Kept in the company's history, for example the company's "
                                 "signed letter of 3 March, checked by telephone with its "
                                 "director."))


class ConfirmBankChangeForm(FlaskForm):
    back = HiddenField(default="list", validators=[AnyOf(BACK_TO)])


class RefuseBankChangeForm(FlaskForm):
    back = HiddenField(default="list", validators=[AnyOf(BACK_TO)])
    reason = TextAreaField(
        lazy_gettext("Why refuse it?"), id="refuse-reason",
        validators=[InputRequired(lazy_gettext("Give the reason for refusing the change.")),
                    Length(max=MAX_REASON)],
        description=lazy_gettext("The company's applicants see it."))
