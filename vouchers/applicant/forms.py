"""The applicant's forms. Formats are checked here; the rules live in the services."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from .. import voucher_types as types
from ..fields import MoneyField, at_least_zero, optional_id
from ..i18n import N_
from ..models import Application
from ..services import reporting
from ..services.applications import MAX_COST_LINES, MAX_DETAIL, MAX_TEXT
from ..services.attachments import ACCEPT, PURPOSES

_not_negative = at_least_zero(N_("The amount cannot be negative."))


class CostLineForm(Form):
    """One cost line; a line left wholly blank is ignored."""

    description = StringField(lazy_gettext("What the cost is for"),
                              validators=[Length(max=200)])
    amount = MoneyField(lazy_gettext("Amount (EUR)"))
    remove = SubmitField(lazy_gettext("Remove"))

    def validate_description(self, field):
        if not (field.data or "").strip() and self.amount.data is not None:
            raise ValidationError(_("Say what this cost is for."))

    def validate_amount(self, field):
        if field.data is None and (self.description.data or "").strip() and not field.errors:
            raise ValidationError(_("Give the amount."))
        if field.data is not None and field.data <= 0:
            raise ValidationError(_("Give an amount greater than zero."))


class ApplicationForm(FlaskForm):
    """What every voucher type asks; a subclass per type adds the type's own fields."""

    title = StringField(lazy_gettext("Title"), validators=[InputRequired(), Length(max=200)],
                        description=lazy_gettext("A short name for the project."))
    summary = TextAreaField(lazy_gettext("Summary"), validators=[Length(max=MAX_TEXT)],
                            description=lazy_gettext("What the company will do with the "
                                                     "voucher and why."))
    requested_amount = MoneyField(lazy_gettext("Amount requested (EUR)"),
                                  validators=[Optional(), _not_negative])
    cost_lines = FieldList(FormField(CostLineForm), min_entries=1, max_entries=MAX_COST_LINES)
    add_line = SubmitField(lazy_gettext("Add a cost line"))
    save = SubmitField(lazy_gettext("Save draft"))

    # Set per voucher type by _form_for, from the registry.
    voucher_type = ""
    needs_provider = False

    @property
    def kind(self) -> types.VoucherType:
        return types.get(self.voucher_type)

    def detail_fields(self) -> list:
        """The voucher type's own fields, in the registry's order."""
        return [self[key] for key in self.kind.detail_keys]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        period = self.kind.period
        if period is None:
            return valid
        problem = types.period_problem(self.voucher_type,
                                       {key: self[key].data for key in period})
        if problem:
            self[period[1]].errors.append(_(problem))
            return False
        return valid

    def process(self, formdata=None, *args, **kwargs):
        # What was posted (the page's request, or the API's JSON as form data:
        # api/boundary.json_form), for validate_cost_lines.
        formdata = self.meta.wrap_formdata(self, formdata)
        self.posted_keys = list(formdata or ())
        super().process(formdata, *args, **kwargs)

    def validate_cost_lines(self, field):
        # FieldList keeps the first max_entries lines and drops the rest without a word.
        posted = {key.split("-")[1] for key in self.posted_keys
                  if key.startswith(f"{field.name}-") and key.split("-")[1].isdigit()}
        if len(posted) > MAX_COST_LINES:
            raise ValidationError(_("At most %(count)s cost lines; group smaller costs.",
                                    count=MAX_COST_LINES))

    def button_pressed(self) -> tuple[str, int | None] | None:
        """("add", None) or ("remove", index) for the buttons that only rework the form."""
        if self.add_line.data:
            return ("add", None)
        for index, entry in enumerate(self.cost_lines.entries):
            if entry.form.remove.data:
                return ("remove", index)
        return None

    def add_cost_line(self) -> None:
        if len(self.cost_lines.entries) < MAX_COST_LINES:
            self.cost_lines.append_entry()

    def remove_cost_line(self, index: int) -> None:
        # The other lines keep their field names; FieldList reads whichever indices it gets.
        del self.cost_lines.entries[index]

    def filled_cost_lines(self) -> list[tuple[str, object]]:
        lines = []
        for entry in self.cost_lines.entries:
            description = (entry.form.description.data or "").strip()
            amount = entry.form.amount.data
            if description or amount is not None:
                lines.append((description, amount))
        return lines

    def service_fields(self) -> dict:
        fields = {
            "title": self.title.data,
            "summary": self.summary.data,
            "requested_amount": self.requested_amount.data,
        }
        for key in self.kind.detail_keys:
            fields[key] = self[key].data
        return fields

    @classmethod
    def data_of(cls, application: Application) -> dict:
        """Initial data for editing ``application``."""
        details = application.details or {}
        data = {
            "title": application.title,
            "summary": application.summary,
            "requested_amount": application.requested_amount,
            "cost_lines": [{"description": line.description, "amount": line.amount}
                           for line in application.cost_lines] or [{}],
        }
        kind = types.get(cls.voucher_type)
        for key in kind.detail_keys:
            value = details.get(key)
            if key in kind.date_keys and value:
                try:
                    value = date.fromisoformat(str(value))
                except ValueError:
                    value = None
            data[key] = value
        return data


def _provider_label(provider) -> str:
    label = f"{provider.name} ({provider.country}, {provider.region})"
    if provider.active:
        return label
    return _("%(provider)s (no longer in the catalogue)", provider=label)


class ValidationForm(ApplicationForm):
    """A voucher that buys a service from a provider in the catalogue."""

    provider_id = SelectField(lazy_gettext("Service provider"), coerce=optional_id,
                              validate_choice=True)

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.provider_id.choices = [
            SelectChoice("", _("Choose a provider from the catalogue"))] + [
            SelectChoice(str(p.id), _provider_label(p)) for p in providers]

    def service_fields(self) -> dict:
        fields = super().service_fields()
        fields["provider_id"] = self.provider_id.data
        return fields

    @classmethod
    def data_of(cls, application: Application) -> dict:
        data = super().data_of(application)
        data["provider_id"] = application.provider_id
        return data


_FIELD_KINDS = {types.TEXT: StringField, types.LONG_TEXT: TextAreaField,
                types.DATE: DateField}


def _detail_field(detail: types.DetailField):
    """The form field of one of the registry's detail fields (its label and description
    English in the registry, translated when the form is drawn)."""
    kwargs = {"description": lazy_gettext(detail.description) if detail.description else ""}
    if detail.is_date:
        kwargs["validators"] = [Optional()]
    else:
        kwargs["validators"] = [Length(max=MAX_DETAIL)]
    if detail.kind == types.LONG_TEXT:
        kwargs["render_kw"] = {"rows": 4}
    return _FIELD_KINDS[detail.kind](lazy_gettext(detail.label), **kwargs)


def _form_for(kind: types.VoucherType) -> type[ApplicationForm]:
    base = ValidationForm if kind.needs_provider else ApplicationForm
    attributes = {"voucher_type": kind.code, "needs_provider": kind.needs_provider}
    attributes.update({detail.key: _detail_field(detail) for detail in kind.details})
    name = "".join(part.capitalize() for part in kind.code.split("_")) + "Form"
    return type(name, (base,), attributes)


# One form class per voucher type, built from the registry.
FORMS: dict[str, type[ApplicationForm]] = {
    code: _form_for(kind) for code, kind in types.REGISTRY.items()
}


# What the applicant agrees to (Regulation (EU) 2021/1060, Art. 49(3)); asked at every
# submission, unticked, so a resubmission is a fresh choice.
PUBLICATION_CONSENT = lazy_gettext(
    "You agree that the programme may publish your company's name, the voucher's purpose, "
    "dates, amounts and region in the public list of operations required by EU Regulation "
    "2021/1060, Article 49.")


class SubmitForm(FlaskForm):
    publication_consent = BooleanField(PUBLICATION_CONSENT, default=False)


class ReasonForm(FlaskForm):
    reason = TextAreaField(lazy_gettext("Reason"), validators=[Length(max=MAX_TEXT)])
    confirm = SubmitField(lazy_gettext("Confirm"))


class UploadForm(FlaskForm):
    purpose = HiddenField(validators=[AnyOf(PURPOSES)])
    kind = SelectField(
        lazy_gettext("What is this document?"),
        validators=[InputRequired(lazy_gettext("Say what the document is.")),
                    AnyOf(tuple(types.ATTACHMENT_KINDS),
                          message=lazy_gettext("Choose what the document is from the list."))],
        validate_choice=False,
    )
    file = FileField(lazy_gettext("File"),
                     validators=[FileRequired(lazy_gettext("Choose a file to upload."))],
                     render_kw={"accept": ACCEPT})
    upload = SubmitField(lazy_gettext("Upload"))

    def __init__(self, *args, required: Iterable[str] = (), **kwargs):
        """``required``: the kinds the call asks for, offered first (the first selected)."""
        super().__init__(*args, **kwargs)
        first = [k for k in required if k in types.ATTACHMENT_KINDS]
        order = first + [k for k in types.ATTACHMENT_KINDS if k not in first]
        self.kind.choices = [
            SelectChoice(k, _("%(kind)s (required by the call)",
                              kind=_(types.ATTACHMENT_KINDS[k]))
                         if k in first else _(types.ATTACHMENT_KINDS[k]))
            for k in order]
        if self.kind.data is None or self.kind.data == "None":
            self.kind.data = first[0] if first else "other"


class ReportForm(FlaskForm):
    summary = TextAreaField(lazy_gettext("What was done"), validators=[Length(max=MAX_TEXT)],
                            description=lazy_gettext("The work the voucher paid for and what "
                                                     "came of it."))
    actual_costs = MoneyField(lazy_gettext("Actual eligible costs (EUR)"),
                              validators=[Optional(), _not_negative],
                              description=lazy_gettext("The total you paid, as on the "
                                                       "invoices."))
    save = SubmitField(lazy_gettext("Save report"))
    submit_report = SubmitField(lazy_gettext("Submit final report"))


def report_form(application, report, form: ReportForm | None = None) -> ReportForm:
    """The report form (``form`` as posted, or a fresh one from the report), its costs
    named in the voucher's currency, as the applicant typed them."""
    if form is None:
        form = ReportForm(formdata=None, data={
            "summary": report.summary if report else "",
            "actual_costs": reporting.entered_costs(report)})
    form.actual_costs.label.text = _("Actual eligible costs (%(currency)s)",
                                     currency=application.currency)
    return form
