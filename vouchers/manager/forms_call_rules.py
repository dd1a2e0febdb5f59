"""The rule fields of the call form: who may apply, the limits per SME, evaluation, money.

The call form (forms_calls.CallForm) carries these fields; services.call_specs says what
each may hold and services.call_rules how applicants read them. A post that does not
carry them at all (a script written before they existed) keeps what the page would have
shown: a new call's defaults, or the call's present rules.
"""

from __future__ import annotations

from flask_babel import format_number, gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from werkzeug.datastructures import MultiDict
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
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from .. import voucher_types
from ..clock import local_date
from ..fields import CountField, MoneyField, NumberField, optional_id
from ..formatting import eur
from ..models import COMPANY_SIZES, Call, Programme, User
from ..models.programmes import DIVERGENCE_SHARE, SME_SIZES, SUPPORT_CAP
from ..services.call_follow_up import months_problems, parse_months
from ..services.call_specs import MAX_LIMIT, REGION_EXAMPLE, format_regions, parse_regions

SIZE_LABELS = {"micro": lazy_gettext("Micro"), "small": lazy_gettext("Small"),
               "medium": lazy_gettext("Medium-sized"), "large": lazy_gettext("Large")}
# The hidden input that says the page showed the rule fields (see posted_with_rules).
RULES_SHOWN = "rules_shown"
_RULE_FIELDS = frozenset({
    "eligible_regions", "max_applications_per_type", "max_vouchers_per_sme", "support_cap",
    "implementation_ends_on", "divergence_percent", "extra_evaluator_on_divergence",
    "evaluators_from_other_partners",
    "lead_evaluator_id", "provider_other_region", "threshold", "minimum", "advance_percent",
    "zero_report_returns_quota", "follow_up_months",
})
_RULE_GROUPS = frozenset({"sizes", "attachments"})
NO_LEAD = lazy_gettext("No lead evaluator: managers record the consensus")


def above_zero(form, field) -> None:
    if field.data is not None and field.data <= 0:
        raise ValidationError(gettext("Must be more than zero."))


def from_to(least: int, most: int) -> LazyString:
    """ "From 1 to 100,000.", its numbers written as the reader's language writes them."""
    return LazyString(lambda: gettext("From %(least)s to %(most)s.",
                                      least=format_number(least), most=format_number(most)))


class RegionsField(TextAreaField):
    """One "CC Region" a line; its data is a list of [country, region], None when empty."""

    def process_formdata(self, valuelist):
        self._problems = []
        if valuelist:
            self.data, self._problems = parse_regions(valuelist[0])

    def process_data(self, value):
        self.data = value or None

    def pre_validate(self, form) -> None:
        if getattr(self, "_problems", None):
            self.errors.extend(self._problems)
            raise StopValidation()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_regions(self.data)


class MonthsField(StringField):
    """Follow-up months typed as "6, 24"; its data a sorted list (services/surveys.py)."""

    def process_formdata(self, valuelist):
        self._problems = []
        if valuelist:
            self.data, self._problems = parse_months(valuelist[0])

    def process_data(self, value):
        self.data = sorted(value or [])

    def pre_validate(self, form) -> None:
        problems = getattr(self, "_problems", None) or months_problems(self.data)
        if problems:
            self.errors.extend(problems)
            raise StopValidation()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return ", ".join(str(m) for m in self.data or ())


class _Ticks(Form):
    """Checkboxes of one set (sizes, attachment kinds), each posted under its own name."""

    required_message: str | None = None

    def chosen(self) -> list[str]:
        return [field.short_name for field in self if field.data]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.required_message and not self.chosen():
            self.form_errors.append(self.required_message)
            ok = False
        return ok


SizesForm = type("SizesForm", (_Ticks,), {
    "required_message": lazy_gettext("Allow at least one enterprise size."),
    **{size: BooleanField(SIZE_LABELS[size]) for size in COMPANY_SIZES},
})
AttachmentsForm = type("AttachmentsForm", (_Ticks,), {
    kind: BooleanField(lazy_gettext(label))
    for kind, label in voucher_types.ATTACHMENT_KINDS.items()
})


def ticked(chosen) -> dict[str, bool]:
    return {name: True for name in chosen or ()}


def regions_hint(programmes: list[Programme]) -> str:
    """What an empty list of eligible regions means, naming the programmes' regions."""
    named = [f"{p.name}: {', '.join(f'{r} ({c})' for c, r in p.regions)}"
             for p in programmes if p.regions]
    shown = "; ".join(named) if named else gettext("none recorded yet")
    return gettext("One region a line: its two-letter country code, then its name, e.g. "
                   "“%(example)s”. Left empty: the programme's partner regions (%(regions)s).",
                   example=REGION_EXAMPLE, regions=shown)


class CallRulesFields:
    """The call-wide rule fields, mixed into the call form."""

    rules_shown = HiddenField(default="1")
    eligible_regions = RegionsField(lazy_gettext("Eligible regions"))
    sizes = FormField(SizesForm, label=lazy_gettext("Enterprise sizes that may apply"))
    max_applications_per_type = CountField(
        lazy_gettext("Applications per SME, per voucher type"),
        description=lazy_gettext("In this call. Empty: no limit."),
        validators=[Optional(), NumberRange(min=1, max=MAX_LIMIT,
                                            message=from_to(1, MAX_LIMIT))])
    max_vouchers_per_sme = CountField(
        lazy_gettext("Vouchers per SME over the programme"),
        description=lazy_gettext("Empty: no limit."),
        validators=[Optional(), NumberRange(min=1, max=MAX_LIMIT,
                                            message=from_to(1, MAX_LIMIT))])
    support_cap = MoneyField(
        lazy_gettext("Support cap per SME over the programme (€)"),
        description=LazyString(lambda: gettext(
            "The EU ceiling for financial support to one third party is %(cap)s. Empty: no cap.",
            cap=eur(SUPPORT_CAP))),
        validators=[Optional(), above_zero])
    implementation_ends_on = DateField(
        lazy_gettext("Last day of the implementation period"),
        description=lazy_gettext("Activities take place between the application's submission "
                                 "and this day. Empty: the programme's last day."),
        validators=[Optional()])
    divergence_percent = NumberField(
        lazy_gettext("Scores diverge beyond (% of the scale)"), places=2,
        description=lazy_gettext("Evaluators' totals further apart than this are flagged."),
        validators=[InputRequired(lazy_gettext("Give the share of the scale.")),
                    NumberRange(min=1, max=100, message=lazy_gettext("From 1 to 100%%."))])
    extra_evaluator_on_divergence = BooleanField(
        lazy_gettext("Assign one more evaluator when scores diverge"))
    evaluators_from_other_partners = BooleanField(
        lazy_gettext("Evaluators of other partners only"),
        description=lazy_gettext("An evaluator does not assess SMEs of the regions of the "
                                 "partner they work for."))
    lead_evaluator_id = SelectField(
        lazy_gettext("Lead evaluator"), coerce=optional_id,
        description=lazy_gettext("Besides the managers, may record the consensus score."),
        invalid_value_message=lazy_gettext("Choose an evaluator from the list."),
        invalid_choice_message=lazy_gettext("Choose an evaluator from the list."))

    advance_percent = NumberField(
        lazy_gettext("Advance (% of the award)"), places=2,
        description=lazy_gettext("Paid once the voucher is awarded; the final payment is then "
                                 "what the report makes payable less the advance. Empty: no "
                                 "advance."),
        validators=[Optional(), NumberRange(min=1, max=99,
                                            message=lazy_gettext("From 1 to 99%%."))])
    zero_report_returns_quota = BooleanField(
        lazy_gettext("A voucher closed on a report with no eligible costs gives its quota "
                     "place back"),
        description=lazy_gettext("Its money always returns to the envelope; ticked, its place "
                                 "in the quota too, so another application can be awarded."))
    follow_up_months = MonthsField(
        lazy_gettext("Follow-up surveys (months after the last payment)"),
        description=lazy_gettext("For example 6, 24: each paid voucher's company is asked what "
                                 "the voucher led to that many months after its last payment. "
                                 "Empty: none."))

    def set_lead_choices(self, evaluators: list[User]) -> None:
        self.lead_evaluator_id.choices = [SelectChoice("", NO_LEAD)] + [
            SelectChoice(u.id, u.name if u.enabled
                         else gettext("%(name)s (account disabled)", name=u.name))
            for u in evaluators]

    def check_rules(self, programme: Programme | None) -> bool:
        """Add the cross-field rules' errors next to their fields; True when all hold."""
        ends = self.implementation_ends_on.data
        closes = self.closes_at.data
        if ends is None:
            return True
        if closes is not None and ends < local_date(closes):
            self.implementation_ends_on.errors.append(
                gettext("Not before the call closes (%(day)s).",
                        day=local_date(closes).strftime("%d %B %Y")))
            return False
        if programme is not None and ends > programme.ends_on:
            self.implementation_ends_on.errors.append(
                gettext("Not after the programme ends (%(day)s).",
                        day=programme.ends_on.strftime("%d %B %Y")))
            return False
        return True

    def rules_spec(self) -> dict:
        """The CallSpec keyword arguments of the rules."""
        return {
            "eligible_regions": self.eligible_regions.data,
            "allowed_sizes": self.sizes.form.chosen(),
            "max_applications_per_type": self.max_applications_per_type.data,
            "max_vouchers_per_sme": self.max_vouchers_per_sme.data,
            "support_cap": self.support_cap.data,
            "implementation_ends_on": self.implementation_ends_on.data,
            "divergence_share": self.divergence_percent.data / 100,
            "extra_evaluator_on_divergence": bool(self.extra_evaluator_on_divergence.data),
            "evaluators_from_other_partners": bool(self.evaluators_from_other_partners.data),
            "lead_evaluator_id": self.lead_evaluator_id.data,
            "advance_share": (None if self.advance_percent.data is None
                              else self.advance_percent.data / 100),
            "zero_report_returns_quota": bool(self.zero_report_returns_quota.data),
            "follow_up_months": list(self.follow_up_months.data or []),
        }


def rules_data(call: Call) -> dict:
    return {
        "eligible_regions": call.eligible_regions, "sizes": ticked(call.allowed_sizes),
        "max_applications_per_type": call.max_applications_per_type,
        "max_vouchers_per_sme": call.max_vouchers_per_sme, "support_cap": call.support_cap,
        "implementation_ends_on": call.implementation_ends_on,
        "divergence_percent": call.divergence_share * 100,
        "extra_evaluator_on_divergence": call.extra_evaluator_on_divergence,
        "evaluators_from_other_partners": call.evaluators_from_other_partners,
        "lead_evaluator_id": call.lead_evaluator_id,
        "advance_percent": None if call.advance_share is None else call.advance_share * 100,
        "zero_report_returns_quota": call.zero_report_returns_quota,
        "follow_up_months": call.follow_up_months,
    }


def new_rules_data() -> dict:
    return {"sizes": ticked(SME_SIZES), "max_applications_per_type": 1,
            "support_cap": SUPPORT_CAP, "divergence_percent": DIVERGENCE_SHARE * 100,
            "zero_report_returns_quota": True}


def new_type_rules(voucher_type: str) -> dict:
    """A new call's rules for one voucher type: the registry's defaults."""
    registered = voucher_types.get(voucher_type)
    return {"provider_other_region": registered.provider_other_region,
            "attachments": ticked(registered.required_attachments)}


def type_rules_data(cvt) -> dict:
    return {"provider_other_region": cvt.provider_other_region,
            "attachments": ticked(cvt.required_attachments), "threshold": cvt.threshold}


# Posts made without the rule fields ------------------------------------------------------


def _leaves(form):
    for f in form:
        if isinstance(f, FormField):
            yield from _leaves(f.form)
        elif isinstance(f, FieldList):
            for entry in f.entries:
                yield from _leaves(entry.form) if isinstance(entry, FormField) else [entry]
        else:
            yield f


def _is_rule(name: str) -> bool:
    parts = name.split("-")
    return parts[-1] in _RULE_FIELDS or (len(parts) > 1 and parts[-2] in _RULE_GROUPS)


def _posted_value(field) -> list[str]:
    """What a browser posts for ``field`` as drawn: nothing for an unticked checkbox."""
    if isinstance(field, BooleanField):
        return ["y"] if field.data else []
    if hasattr(field, "_value"):
        return [field._value()]
    return ["" if field.data is None else str(field.data)]


def posted_with_rules(formdata, shown: Form) -> MultiDict:
    """``formdata`` with the rule fields it lacks taken from ``shown`` (the page as a GET
    would draw it), unless it says it came from a page that showed them.

    A criterion's minimum is taken only for the row of the same criterion.
    """
    if RULES_SHOWN in formdata:
        return formdata
    merged = MultiDict(formdata)
    drawn = {f.name: _posted_value(f) for f in _leaves(shown)}
    for name, values in drawn.items():
        if not _is_rule(name) or name in merged or not values:
            continue
        if name.endswith("-minimum"):
            row = name.rpartition("-")[0] + "-criterion_id"
            if merged.get(row, "") != (drawn.get(row) or [""])[0]:
                continue
        merged.setlist(name, values)
    return merged

