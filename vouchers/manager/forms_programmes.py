"""The programme's form: the funded scheme, its budget, dates and partner regions."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import InputRequired, Length

from ..fields import MoneyField
from ..models import Programme
from ..services.call_specs import REGION_EXAMPLE
from .forms_call_rules import RegionsField, not_negative

FIELDS = ("name", "funder", "total_budget", "starts_on", "ends_on", "regions")


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


def programme_form(programme: Programme) -> ProgrammeForm:
    """The form editing ``programme``: on GET showing what it holds."""
    if request.method == "POST":
        return ProgrammeForm()
    return ProgrammeForm(data={name: getattr(programme, name) for name in FIELDS})
