"""The consortium's forms: a partner (its regions as lines of text, a share per voucher
type of the programme's calls), the partner an invited or existing user works for.

The forms parse; services/partner_setup.py decides the rules (one lead, a region of one
partner and of the programme, shares within the envelopes), so a refusal reads the same
from a test or the web.
"""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..auth.forms import InviteForm
from ..fields import MoneyField, not_negative, optional_id
from ..formatting import eur
from ..i18n import current_language
from ..models import CallVoucherType, Partner
from ..services.partner_regions import LINE_EXAMPLE, format_region_lines, parse_region_lines
from ..services.partner_setup import PartnerSpec, partner_choices

NO_PARTNER = lazy_gettext("No partner: the whole programme")
SHARE_PREFIX = "share_"


class PartnerForm(FlaskForm):
    name = StringField(lazy_gettext("Name"),
                       validators=[InputRequired(lazy_gettext("Give the partner's name.")),
                                   Length(max=200)])
    country = StringField(lazy_gettext("Country"),
                          description=lazy_gettext("Two capital letters, as ES or UK."),
                          validators=[InputRequired(lazy_gettext("Give the partner's country.")),
                                      Length(min=2, max=2,
                                             message=lazy_gettext("Two letters, as ES."))])
    currency = StringField(
        lazy_gettext("Currency"), default="EUR",
        description=lazy_gettext("The three-letter ISO code its books are kept in: EUR, or a "
                                 "currency InforEuro publishes a rate for (PLN, SEK, CHF…)."),
        validators=[InputRequired(lazy_gettext("Give the partner's currency.")),
                    Length(min=3, max=3, message=lazy_gettext("Three letters, as EUR."))])
    is_lead = BooleanField(lazy_gettext("Lead partner (its managers run the whole programme)"))
    regions = TextAreaField(
        lazy_gettext("Regions"),
        description=lazy_gettext("One a line: country | region's name | NUTS code, as "
                                 "“%(example)s”. Each must be a region of the programme.",
                                 example=LINE_EXAMPLE))

    # The share fields (share_<call voucher type id>) are added per programme by
    # partner_form(); this is their order and their types.
    share_types: list[CallVoucherType] = []

    def validate_regions(self, field) -> None:
        _, problems = parse_region_lines(field.data)
        if problems:
            raise ValidationError(" ".join(problems))

    def share_fields(self) -> list[tuple[CallVoucherType, MoneyField]]:
        return [(t, self[f"{SHARE_PREFIX}{t.id}"]) for t in self.share_types]

    def to_spec(self) -> PartnerSpec:
        regions, _ = parse_region_lines(self.regions.data)
        return PartnerSpec(
            name=self.name.data or "", country=(self.country.data or "").strip(),
            currency=(self.currency.data or "").strip(), is_lead=bool(self.is_lead.data),
            regions=regions, shares={t.id: f.data for t, f in self.share_fields()})


def partner_form(types: list[CallVoucherType], partner: Partner | None = None) -> PartnerForm:
    """The partner form with one share field per voucher type of the programme's calls."""

    class Form(PartnerForm):
        pass

    for t in types:
        setattr(Form, f"{SHARE_PREFIX}{t.id}", MoneyField(
            f"{t.call.code} {gettext(t.label)} (€)",
            description=gettext("Of its envelope of %(envelope)s. Empty: no share of its own, "
                                "the envelope is the limit.", envelope=eur(t.envelope)),
            validators=[Optional(), not_negative]))
    Form.share_types = types
    if partner is None:
        return Form()
    shares = {s.call_voucher_type_id: s.envelope for s in partner.shares}
    return Form(data={"name": partner.name, "country": partner.country,
                      "currency": partner.currency, "is_lead": partner.is_lead,
                      "regions": format_region_lines(partner),
                      **{f"{SHARE_PREFIX}{t.id}": shares.get(t.id) for t in types}})


def _partner_select(label: str) -> SelectField:
    return SelectField(label, coerce=optional_id,
                       invalid_value_message=lazy_gettext("Choose a partner from the list."),
                       invalid_choice_message=lazy_gettext("Choose a partner from the list."))


def _set_choices(field: SelectField) -> None:
    field.choices = [SelectChoice("", NO_PARTNER)] + [
        SelectChoice(pid, label) for pid, label in partner_choices()]


class PartnerInviteForm(InviteForm):
    partner_id = _partner_select(lazy_gettext("Works for the partner"))


def invite_form() -> PartnerInviteForm:
    form = PartnerInviteForm()
    _set_choices(form.partner_id)
    if not form.is_submitted():  # the manager's own language, until they choose another
        form.language.data = current_language()
    return form


class UserPartnerForm(FlaskForm):
    partner_id = _partner_select(lazy_gettext("Partner"))


def user_partner_form(**objects) -> UserPartnerForm:
    form = UserPartnerForm()
    _set_choices(form.partner_id)
    return form
