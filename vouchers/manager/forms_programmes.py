"""The programme's form: the funded scheme, its budget, dates and partner regions, its own
bank account (the debtor of its SEPA payment files) and the granting authority of its aid;
and, on its own, whether its evaluators must sign in with a second factor."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, InputRequired, Length, ValidationError

from exports import sepa_file

from ..fields import MoneyField
from ..models import RATE_RULES, Programme
from ..services.call_specs import REGION_EXAMPLE
from .forms_call_rules import RegionsField, not_negative

FIELDS = ("name", "funder", "total_budget", "starts_on", "ends_on", "regions", "debtor_name",
          "debtor_iban", "debtor_bic", "granting_authority", "rate_rule")
RATE_RULE_CHOICES = [
    SelectChoice("submission", "The month the partner report is submitted"),
    SelectChoice("payment", "The month of each payment"),
]


class ProgrammeForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Give the programme a name."),
                                           Length(max=200)])
    funder = StringField("Funder", description="e.g. Interreg North-West Europe",
                         validators=[InputRequired("Name the funder."), Length(max=200)])
    total_budget = MoneyField("Total budget (€)",
                              validators=[InputRequired("Give the total budget."),
                                          not_negative])
    starts_on = DateField("Starts on", validators=[InputRequired("Give the start date.")])
    ends_on = DateField("Ends on", validators=[InputRequired("Give the end date.")])
    regions = RegionsField(
        "Partner regions",
        description="One region a line: its two-letter country code, then its name, e.g. "
                    f"“{REGION_EXAMPLE}”. A call's eligible regions, unless it names its own.")
    rate_rule = SelectField(
        "Exchange rate for partners' amounts", choices=RATE_RULE_CHOICES, default="submission",
        validators=[AnyOf(RATE_RULES, message="Choose one of the two months.")],
        description="A partner in another currency than EUR declares its payments in EUR at "
                    "the Commission's InforEuro rate of one month: either the month it submits "
                    "its partner report (as Interreg programmes do: all of a report's lines at "
                    "one rate), or the month each payment was made (the rate the payment "
                    "keeps). A final report's costs always convert at the month it is "
                    "submitted.")
    granting_authority = StringField(
        "Granting authority", validators=[Length(max=200)],
        description="Who grants the aid, as the de minimis register records it. Leave empty "
                    "when it is the funder.")
    debtor_name = StringField(
        "Account name", validators=[Length(max=70)],
        description="The programme's own bank account, which the SEPA payment files pay "
                    "from: the name of the account holder, e.g. the lead partner.")
    debtor_iban = StringField("IBAN", validators=[Length(max=42)],
                              description="e.g. DE89 3704 0044 0532 0130 00")
    debtor_bic = StringField("BIC", validators=[Length(max=14)],
                             description="Optional: 8 or 11 characters, e.g. COBADEFFXXX.")

    # The service checks the account again (for the CLI); here the message goes next to
    # its field.
    def validate_debtor_iban(self, field):
        if (field.data or "").strip():
            _checked(sepa_file.clean_iban, field.data, "The IBAN")

    def validate_debtor_bic(self, field):
        _checked(sepa_file.clean_bic, field.data, "The BIC")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.starts_on.data and self.ends_on.data and self.ends_on.data <= self.starts_on.data:
            self.ends_on.errors.append("The programme must end after it starts.")
            ok = False
        return ok

    def to_fields(self) -> dict:
        """The keyword arguments of programme_setup.create_programme and update_programme."""
        return {**{name: getattr(self, name).data for name in FIELDS},
                "regions": self.regions.data or []}


def _checked(clean, value: str | None, whose: str) -> None:
    try:
        clean(value or "", whose)
    except sepa_file.SepaFileError as exc:
        raise ValidationError(str(exc)) from exc


def programme_form(programme: Programme) -> ProgrammeForm:
    """The form editing ``programme``: on GET showing what it holds."""
    if request.method == "POST":
        return ProgrammeForm()
    return ProgrammeForm(data={name: getattr(programme, name) for name in FIELDS})


class EvaluatorsSecondFactorForm(FlaskForm):
    """A form of its own (managers always need a second factor; this is the evaluators'
    rule): saving it does not touch the programme's budget and dates, nor they it."""

    required = BooleanField("Evaluators must use two-factor sign-in")
    submit = SubmitField("Save the sign-in rule")
