"""The manager's forms: the applications filter, one small form per action, assignment.

The forms parse input (amounts, dates, choices); the services decide the rules, so a
refusal reads the same whether it comes from the web, the CLI or a test.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Form,
    HiddenField,
    IntegerField,
    SearchField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from workflows.lifecycle import STATE_LABELS, STATES

from .. import voucher_types
from ..applicant.forms import ProfileForm
from ..fields import MoneyField, optional_id
from ..input_checks import MAX_PAGE
from ..models.base import MAX_ID
from ..models.ledger import PAYMENT, PAYMENT_KINDS
from ..services.application_page import CHOOSE_EVALUATOR
from ..services.assignment import MAX_PER_APPLICATION
from ..services.listing import DEFAULT_PER_PAGE, PER_PAGE_CHOICES
from ..services.needs import NEEDS
from ..services.organisations import MAX_REASON


def _positive(form, field):
    if field.data is not None and field.data <= 0:
        raise ValidationError("Give an amount greater than zero.")


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _select(label: str, message: str, **kwargs) -> SelectField:
    """A select whose wrong values (typed into the URL) get a message saying what is right."""
    return SelectField(label, invalid_value_message=message, invalid_choice_message=message,
                       **kwargs)


class ApplicationFilterForm(Form):
    """The table's filters, read from the query string (a GET form needs no CSRF token)."""

    call = _select("Call", "There is no such call.", coerce=int)
    type = _select("Voucher type", "Choose one of the voucher types.", default="",
                   choices=_choices([("", "All types")]
                                    + list(voucher_types.LABELS.items())))
    state = _select("State", "Choose one of the states of a submitted application.", default="",
                    choices=_choices([("", "All states")]
                                     + [(s, STATE_LABELS[s]) for s in STATES if s != "draft"]))
    country = _select("Country", "No applicant comes from that country.", default="")
    needs = _select("Needs", "Choose one of the listed needs for action.", default="",
                    choices=_choices([("", "All applications")]
                                     + [(k, n.label) for k, n in NEEDS.items()]))
    q = StringField("Search", [Optional(), Length(max=100)],
                    description="Reference, title or company name")
    sort = _select("Sort by", "Sort by date or by score.", default="date",
                   choices=_choices([("date", "Date submitted"), ("score", "Score")]))
    dir = _select("Order", "Order descending or ascending.", default="desc",
                  choices=_choices([("desc", "Descending"), ("asc", "Ascending")]))
    per_page = _select("Per page",
                       "Show " + ", ".join(map(str, PER_PAGE_CHOICES[:-1]))
                       + f" or {PER_PAGE_CHOICES[-1]} per page.",
                       coerce=int, default=DEFAULT_PER_PAGE,
                       choices=_choices((n, str(n)) for n in PER_PAGE_CHOICES))
    page = IntegerField("Page", [Optional(), NumberRange(
        min=1, max=MAX_PAGE, message=f"Give a page number from 1 to {MAX_PAGE:,}.")], default=1)


class CommentForm(FlaskForm):
    comment = TextAreaField("Comment (optional)", [Length(max=2000)])


class ReasonForm(FlaskForm):
    """An action that needs a reason; the lifecycle guard says so if it is missing."""

    comment = TextAreaField("Reason", [Length(max=2000)], render_kw={"required": True})


class ChangesForm(FlaskForm):
    comment = TextAreaField("Changes asked for", [Length(max=2000)],
                            render_kw={"required": True})


class ButtonForm(FlaskForm):
    """An action with nothing to fill in: the CSRF token is the whole form."""


class AwardForm(FlaskForm):
    amount = MoneyField("Amount awarded (€)", [InputRequired("Give the amount to award."),
                                               _positive])
    comment = TextAreaField("Comment (optional)", [Length(max=2000)])


class PaymentForm(FlaskForm):
    # Which payment this is: the page says it (an advance before the report is approved,
    # the payment after) and sends it along; a form posted without it gets the kind the
    # voucher's state calls for (vouchers/manager/applications.py), and the service says
    # why a kind does not fit the state.
    kind = HiddenField(default=PAYMENT, validators=[
        AnyOf(PAYMENT_KINDS, message="Record an advance or a payment.")])
    amount = MoneyField("Amount paid (€)", [InputRequired("Give the amount paid."), _positive])
    paid_on = DateField("Paid on", [InputRequired("Give the date of the payment.")])
    reference = StringField("Payment reference", [Length(max=60)],
                            render_kw={"required": True})
    invoice_number = StringField("Invoice number", [Optional(), Length(max=60)])
    invoice_date = DateField("Invoice date", [Optional()])


class AssignForm(FlaskForm):
    # The choices shown are a convenience: the service decides who may be assigned, so a
    # choice made elsewhere (another tab, a crafted form) gets the service's reason.
    evaluator = SelectField("Evaluator", coerce=optional_id, validate_choice=False,
                            invalid_value_message=CHOOSE_EVALUATOR,
                            validators=[InputRequired(CHOOSE_EVALUATOR),
                                        NumberRange(min=1, max=MAX_ID,
                                                    message=CHOOSE_EVALUATOR)])


class AutoAssignForm(FlaskForm):
    per_application = IntegerField(
        "Evaluators per application",
        [InputRequired("Say how many evaluators each application needs."),
         NumberRange(min=1, max=MAX_PER_APPLICATION,
                     message=f"Between 1 and {MAX_PER_APPLICATION}.")],
    )
    return_to = HiddenField(default="dashboard")


class OrganisationSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField("Legal name or registry number", validators=[Optional(), Length(max=200)])


class CorrectionForm(ProfileForm):
    """The company profile as the manager corrects it: every field, and why."""

    reason = TextAreaField(
        "Reason for the correction",
        validators=[InputRequired("Give the reason for the correction."),
                    Length(max=MAX_REASON)],
        description="Kept in the company's history with the change, for example the "
                    "register extract or the applicant's request it follows.",
    )
    save = SubmitField("Save the correction")
