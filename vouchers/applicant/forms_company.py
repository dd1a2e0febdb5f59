"""The company's forms on the applicant's profile page: the company, its bank account and
the de minimis aid it declares. Formats are checked here; the rules live in the services
(services/organisations.py, bank_details.py, aid.py)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from ..countries import EUROPEAN_COUNTRIES, name_for_reader
from ..fields import MoneyField
from ..identifiers import MAX_ACCOUNT_HOLDER
from ..models import COMPANY_SIZES, SECTORS, Organisation
from ..services.organisations import SECTOR_LABELS, SIZE_LABELS


def country_names() -> dict[str, str]:
    """The countries a company may be based in, by code, named in the reader's language."""
    return {code: name_for_reader(code) for code in EUROPEAN_COUNTRIES}


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
