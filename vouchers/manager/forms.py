"""The manager's forms: the applications filter, one small form per action, assignment.

The forms parse input (amounts, dates, choices); the services decide the rules, so a
refusal reads the same whether it comes from the web, the CLI or a test.
"""

from __future__ import annotations

from flask_babel import lazy_gettext
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
from ..applicant.forms_company import ProfileForm
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
        raise ValidationError(lazy_gettext("Give an amount greater than zero."))


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _select(label: str, message: str, **kwargs) -> SelectField:
    """A select whose wrong values (typed into the URL) get a message saying what is right."""
    return SelectField(label, invalid_value_message=message, invalid_choice_message=message,
                       **kwargs)


class ApplicationFilterForm(Form):
    """The table's filters, read from the query string (a GET form needs no CSRF token)."""

    call = _select(lazy_gettext("Call"), lazy_gettext("There is no such call."), coerce=int)
    type = _select(lazy_gettext("Voucher type"), lazy_gettext("Choose one of the voucher types."),
                   default="",
                   choices=_choices([("", lazy_gettext("All types"))]
                                    + [(code, lazy_gettext(label))
                                       for code, label in voucher_types.LABELS.items()]))
    state = _select(lazy_gettext("State"),
                    lazy_gettext("Choose one of the states of a submitted application."),
                    default="",
                    choices=_choices([("", lazy_gettext("All states"))]
                                     + [(s, lazy_gettext(STATE_LABELS[s])) for s in STATES
                                        if s != "draft"]))
    country = _select(lazy_gettext("Country"),
                      lazy_gettext("No applicant comes from that country."), default="")
    needs = _select(lazy_gettext("Needs"),
                    lazy_gettext("Choose one of the listed needs for action."), default="",
                    choices=_choices([("", lazy_gettext("All applications"))]
                                     + [(k, n.label) for k, n in NEEDS.items()]))
    q = StringField(lazy_gettext("Search"), [Optional(), Length(max=100)],
                    description=lazy_gettext("Reference, title or company name"))
    sort = _select(lazy_gettext("Sort by"), lazy_gettext("Sort by date or by score."),
                   default="date",
                   choices=_choices([("date", lazy_gettext("Date submitted")),
                                     ("score", lazy_gettext("Score"))]))
    dir = _select(lazy_gettext("Order"), lazy_gettext("Order descending or ascending."),
                  default="desc",
                  choices=_choices([("desc", lazy_gettext("Descending")),
                                    ("asc", lazy_gettext("Ascending"))]))
    per_page = _select(lazy_gettext("Per page"),
                       lazy_gettext("Show %(sizes)s or %(last)s per page.",
                                    sizes=", ".join(map(str, PER_PAGE_CHOICES[:-1])),
                                    last=PER_PAGE_CHOICES[-1]),
                       coerce=int, default=DEFAULT_PER_PAGE,
                       choices=_choices((n, str(n)) for n in PER_PAGE_CHOICES))
    page = IntegerField(lazy_gettext("Page"), [Optional(), NumberRange(
        min=1, max=MAX_PAGE, message=lazy_gettext("Give a page number from 1 to %(max)s.",
                                                  max=format(MAX_PAGE, ",")))], default=1)


class CommentForm(FlaskForm):
    comment = TextAreaField(lazy_gettext("Comment (optional)"), [Length(max=2000)])


class ReasonForm(FlaskForm):
    """An action that needs a reason; the lifecycle guard says so if it is missing."""

    comment = TextAreaField(lazy_gettext("Reason"), [Length(max=2000)],
                            render_kw={"required": True})


class ChangesForm(FlaskForm):
    comment = TextAreaField(lazy_gettext("Changes asked for"), [Length(max=2000)],
                            render_kw={"required": True})


class ButtonForm(FlaskForm):
    """An action with nothing to fill in: the CSRF token is the whole form."""


class AwardForm(FlaskForm):
    amount = MoneyField(lazy_gettext("Amount awarded (€)"),
                        [InputRequired(lazy_gettext("Give the amount to award.")), _positive])
    comment = TextAreaField(lazy_gettext("Comment (optional)"), [Length(max=2000)])


class PaymentForm(FlaskForm):
    # Which payment this is: the page says it (an advance before the report is approved,
    # the payment after) and sends it along; a form posted without it gets the kind the
    # voucher's state calls for (vouchers/manager/applications.py), and the service says
    # why a kind does not fit the state.
    kind = HiddenField(default=PAYMENT, validators=[
        AnyOf(PAYMENT_KINDS, message=lazy_gettext("Record an advance or a payment."))])
    amount = MoneyField(lazy_gettext("Amount paid (€)"),
                        [InputRequired(lazy_gettext("Give the amount paid.")), _positive])
    paid_on = DateField(lazy_gettext("Paid on"),
                        [InputRequired(lazy_gettext("Give the date of the payment."))])
    reference = StringField(lazy_gettext("Payment reference"), [Length(max=60)],
                            render_kw={"required": True})
    invoice_number = StringField(lazy_gettext("Invoice number"), [Optional(), Length(max=60)])
    invoice_date = DateField(lazy_gettext("Invoice date"), [Optional()])


class AssignForm(FlaskForm):
    # The choices shown are a convenience: the service decides who may be assigned, so a
    # choice made elsewhere (another tab, a crafted form) gets the service's reason.
    evaluator = SelectField(lazy_gettext("Evaluator"), coerce=optional_id, validate_choice=False,
                            invalid_value_message=CHOOSE_EVALUATOR,
                            validators=[InputRequired(CHOOSE_EVALUATOR),
                                        NumberRange(min=1, max=MAX_ID,
                                                    message=CHOOSE_EVALUATOR)])


class AutoAssignForm(FlaskForm):
    per_application = IntegerField(
        lazy_gettext("Evaluators per application"),
        [InputRequired(lazy_gettext("Say how many evaluators each application needs.")),
         NumberRange(min=1, max=MAX_PER_APPLICATION,
                     message=lazy_gettext("Between 1 and %(max)s.", max=MAX_PER_APPLICATION))],
    )
    return_to = HiddenField(default="dashboard")


class OrganisationSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = SearchField(lazy_gettext("Legal name or registry number"),
                    validators=[Optional(), Length(max=200)])


class CorrectionForm(ProfileForm):
    """The company profile as the manager corrects it: every field, and why."""

    reason = TextAreaField(
        lazy_gettext("Reason for the correction"),
        validators=[InputRequired(lazy_gettext("Give the reason for the correction.")),
                    Length(max=MAX_REASON)],
        description=lazy_gettext("Kept in the company's history with the change, for example "
                                 "the register extract or the applicant's request it follows."),
    )
    save = SubmitField(lazy_gettext("Save the correction"))
