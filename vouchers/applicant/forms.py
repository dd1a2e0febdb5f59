"""The applicant's forms. Formats are checked here; the rules live in the services."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import date

from flask_babel import get_locale, lazy_gettext
from flask_babel import gettext as _
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
from ..countries import EUROPEAN_COUNTRIES
from ..fields import MoneyField, optional_id
from ..i18n import current_language
from ..identifiers import MAX_ACCOUNT_HOLDER
from ..models import COMPANY_SIZES, SECTORS, Application, Organisation
from ..services import reporting
from ..services.applications import MAX_COST_LINES, MAX_DETAIL, MAX_TEXT
from ..services.attachments import ACCEPT, PURPOSES
from ..services.organisations import SECTOR_LABELS, SIZE_LABELS


def _not_negative(form, field):
    if field.data is not None and field.data < 0:
        raise ValidationError(_("The amount cannot be negative."))


def country_names() -> dict[str, str]:
    """The countries a company may be based in, by code, named in the reader's language
    (Babel's names of the territories; in English the list's own)."""
    if current_language() == "en":
        return dict(EUROPEAN_COUNTRIES)
    territories = get_locale().territories
    # The list writes the United Kingdom "UK" (as VAT numbers do); ISO 3166 says GB.
    return {code: territories.get("GB" if code == "UK" else code, name)
            for code, name in EUROPEAN_COUNTRIES.items()}


def _sort_key(name: str) -> str:
    """Alphabetical whatever the accents ("Àustria" with the A's)."""
    return "".join(c for c in unicodedata.normalize("NFD", name.casefold())
                   if not unicodedata.combining(c))


class ProfileForm(FlaskForm):
    legal_name = StringField(lazy_gettext("Legal name"),
                             validators=[InputRequired(), Length(max=200)])
    registry_number = StringField(
        lazy_gettext("VAT or company registry number"),
        validators=[InputRequired(), Length(max=60)],
        description=lazy_gettext(
            "The number the company register gives (Germany's Handelsregisternummer "
            "such as München HRB 12345, Denmark's CVR number, ...) or the company's "
            "VAT number. It is checked for the company's country."),
    )
    vat_number = StringField(
        lazy_gettext("VAT number (optional)"), validators=[Optional(), Length(max=60)],
        description=lazy_gettext("With its country code, for example NL004495445B01 or "
                                 "DE136695976 (Greek numbers begin with EL)."),
    )
    country = SelectField(lazy_gettext("Country"), validators=[InputRequired()])
    region = StringField(lazy_gettext("Region"), validators=[InputRequired(), Length(max=200)],
                         description=lazy_gettext("For example Catalonia, North Brabant or "
                                                  "Kent."))
    size = SelectField(lazy_gettext("Company size"),
                       choices=[SelectChoice(s, lazy_gettext(SIZE_LABELS[s]))
                                for s in COMPANY_SIZES])
    sector = SelectField(lazy_gettext("Sector"),
                         choices=[SelectChoice(s, lazy_gettext(SECTOR_LABELS[s]))
                                  for s in SECTORS])
    save = SubmitField(lazy_gettext("Save company profile"))

    def __init__(self, *args, organisation: Organisation | None = None,
                 frozen: Iterable[str] = (), **kwargs):
        super().__init__(*args, obj=organisation, **kwargs)
        self.frozen = tuple(frozen)
        self._freeze(organisation)
        choices = [SelectChoice("", _("Choose a country"))] + [
            SelectChoice(code, name)
            for code, name in sorted(country_names().items(),
                                     key=lambda item: _sort_key(item[1]))
        ]
        current = organisation.country if organisation else None
        if current and current not in EUROPEAN_COUNTRIES:
            choices.append(SelectChoice(current, current))
        self.country.choices = choices

    def _freeze(self, organisation: Organisation | None) -> None:
        """Fields the company may no longer change are drawn disabled (a browser does not
        send them) and keep the company's own values, whatever a request says."""
        for name in self.frozen:
            field = self[name]
            field.data = getattr(organisation, name)
            field.raw_data = []
            field.validators = []
            field.flags.required = False
            field.render_kw = {**(field.render_kw or {}), "disabled": True}


class BankDetailsForm(FlaskForm):
    """The account the company's voucher payments go to (checked by the service)."""

    iban = StringField("IBAN", validators=[
        InputRequired(lazy_gettext("Give the IBAN of the company's account.")),
        Length(max=60)],
        description=lazy_gettext("As on a bank statement, for example "
                                 "NL91 ABNA 0417 1643 00."))
    bic = StringField(lazy_gettext("BIC (optional)"), validators=[Optional(), Length(max=20)],
                      description=lazy_gettext(
                          "The bank's code of 8 or 11 letters and digits; needed for "
                          "an account outside the European Economic Area (the UK, "
                          "Switzerland, ...)."))
    account_holder = StringField(
        lazy_gettext("Account holder"),
        validators=[InputRequired(lazy_gettext("Give the account holder's name.")),
                    Length(max=MAX_ACCOUNT_HOLDER)],
        description=lazy_gettext("The name the account is held in, as the bank knows it."))
    save_bank = SubmitField(lazy_gettext("Save bank details"))

    @classmethod
    def data_of(cls, details) -> dict:
        """Initial data from BankDetails (the IBAN in groups of four, as it is read)."""
        if details is None:
            return {}
        return {"iban": details.iban_formatted, "bic": details.bic,
                "account_holder": details.account_holder}


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
            self[period[1]].errors.append(problem)
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


class AidDeclarationForm(FlaskForm):
    """One de minimis aid the company received elsewhere."""

    granting_body = StringField(
        lazy_gettext("Granted by"),
        validators=[InputRequired(lazy_gettext("Say who granted the aid.")), Length(max=200)],
        description=lazy_gettext("The body that granted the aid, for example a regional "
                                 "development agency or a ministry."),
    )
    granted_on = DateField(
        lazy_gettext("Date granted"),
        validators=[InputRequired(lazy_gettext("Give the date the aid was granted."))],
        description=lazy_gettext("As on the grant decision."))
    amount = MoneyField(
        lazy_gettext("Amount (EUR)"),
        validators=[InputRequired(lazy_gettext("Give the amount of the aid."))],
        description=lazy_gettext("The aid in euros, for example 12500.00, without "
                                 "thousands separators."))
    declare = SubmitField(lazy_gettext("Declare this aid"))


class WithdrawAidForm(FlaskForm):
    reason = StringField(lazy_gettext("Why remove it?"), validators=[
        InputRequired(lazy_gettext("Say why the declaration is withdrawn.")),
        Length(max=2000)])
    withdraw = SubmitField(lazy_gettext("Remove"))


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
