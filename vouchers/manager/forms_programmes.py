"""The programme's form: the funded scheme, its budget, dates and partner regions, its own
bank account (the debtor of its SEPA payment files) and the granting authority of its aid;
and, on its own, whether its evaluators must sign in with a second factor."""

from __future__ import annotations

from flask import request
from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, InputRequired, Length, ValidationError

from exports import sepa_file

from ..fields import MoneyField, not_negative
from ..i18n import said
from ..models import RATE_RULES, Programme
from ..services.call_specs import REGION_EXAMPLE
from .forms_call_rules import RegionsField

FIELDS = ("name", "funder", "total_budget", "starts_on", "ends_on", "regions", "debtor_name",
          "debtor_iban", "debtor_bic", "granting_authority", "rate_rule")
RATE_RULE_CHOICES = [
    SelectChoice("submission", lazy_gettext("The month the partner report is submitted")),
    SelectChoice("payment", lazy_gettext("The month of each payment")),
]


class ProgrammeForm(FlaskForm):
    name = StringField(lazy_gettext("Name"),
                       validators=[InputRequired(lazy_gettext("Give the programme a name.")),
                                   Length(max=200)])
    funder = StringField(lazy_gettext("Funder"),
                         description=lazy_gettext("e.g. Interreg North-West Europe"),
                         validators=[InputRequired(lazy_gettext("Name the funder.")),
                                     Length(max=200)])
    total_budget = MoneyField(lazy_gettext("Total budget (€)"),
                              validators=[InputRequired(lazy_gettext("Give the total budget.")),
                                          not_negative])
    starts_on = DateField(lazy_gettext("Starts on"),
                          validators=[InputRequired(lazy_gettext("Give the start date."))])
    ends_on = DateField(lazy_gettext("Ends on"),
                        validators=[InputRequired(lazy_gettext("Give the end date."))])
    regions = RegionsField(
        lazy_gettext("Partner regions"),
        description=lazy_gettext("One region a line: its two-letter country code, then its "
                                 "name, e.g. “%(example)s”. A call's eligible regions, unless "
                                 "it names its own.", example=REGION_EXAMPLE))
    rate_rule = SelectField(
        lazy_gettext("Exchange rate for partners' amounts"), choices=RATE_RULE_CHOICES,
        default="submission",
        validators=[AnyOf(RATE_RULES, message=lazy_gettext("Choose one of the two months."))],
        description=lazy_gettext(
            "A partner in another currency than EUR declares its payments in EUR at the "
            "Commission's InforEuro rate of one month: either the month it submits its partner "
            "report (as Interreg programmes do: all of a report's lines at one rate), or the "
            "month each payment was made (the rate the payment keeps). A final report's costs "
            "always convert at the month it is submitted."))
    granting_authority = StringField(
        lazy_gettext("Granting authority"), validators=[Length(max=200)],
        description=lazy_gettext("Who grants the aid, as the de minimis register records it. "
                                 "Leave empty when it is the funder."))
    debtor_name = StringField(
        lazy_gettext("Account name"), validators=[Length(max=70)],
        description=lazy_gettext("The programme's own bank account, which the SEPA payment "
                                 "files pay from: the name of the account holder, e.g. the "
                                 "lead partner."))
    debtor_iban = StringField(lazy_gettext("IBAN"), validators=[Length(max=42)],
                              description=lazy_gettext("e.g. DE89 3704 0044 0532 0130 00"))
    debtor_bic = StringField(lazy_gettext("BIC"), validators=[Length(max=14)],
                             description=lazy_gettext("Optional: 8 or 11 characters, e.g. "
                                                      "COBADEFFXXX."))

    # The service checks the account again (for the CLI); here the message goes next to
    # its field.
    def validate_debtor_iban(self, field):
        if (field.data or "").strip():
            _checked(sepa_file.clean_iban, field.data)

    def validate_debtor_bic(self, field):
        _checked(sepa_file.clean_bic, field.data)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.starts_on.data and self.ends_on.data and self.ends_on.data <= self.starts_on.data:
            self.ends_on.errors.append(gettext("The programme must end after it starts."))
            ok = False
        return ok

    def to_fields(self) -> dict:
        """The keyword arguments of programme_setup.create_programme and update_programme."""
        return {**{name: getattr(self, name).data for name in FIELDS},
                "regions": self.regions.data or []}


def _checked(clean, value: str | None) -> None:
    try:
        clean(value or "")
    except sepa_file.SepaFileError as exc:
        raise ValidationError(said(exc)) from exc


def programme_form(programme: Programme) -> ProgrammeForm:
    """The form editing ``programme``: on GET showing what it holds."""
    if request.method == "POST":
        return ProgrammeForm()
    return ProgrammeForm(data={name: getattr(programme, name) for name in FIELDS})


class EvaluatorsSecondFactorForm(FlaskForm):
    """A form of its own (managers always need a second factor; this is the evaluators'
    rule): saving it does not touch the programme's budget and dates, nor they it."""

    required = BooleanField(lazy_gettext("Evaluators must use two-factor sign-in"))
    submit = SubmitField(lazy_gettext("Save the sign-in rule"))
