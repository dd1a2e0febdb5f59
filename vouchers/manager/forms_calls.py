"""Forms of the manager's call set-up pages (the provider catalogue's: forms_providers.py).

The forms check what can be checked field by field and say so next to the field; the
rules that need the database (codes taken, money already committed) belong to
services.call_setup and services.providers, which the views call with the specs these
forms build.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request
from flask_babel import format_number, gettext, lazy_gettext
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from .. import voucher_types
from ..clock import programme_zone
from ..fields import MoneyField, NumberField, not_negative
from ..models import VOUCHER_TYPES, Call, Programme, User
from ..services.call_setup import CallSpec
from ..services.call_specs import (
    CODE_MAX,
    MAX_SCORE_SCALE,
    CriterionSpec,
    VoucherTypeSpec,
)
from .forms_call_rules import (
    AttachmentsForm,
    CallRulesFields,
    CountField,
    above_zero,
    new_rules_data,
    new_type_rules,
    posted_with_rules,
    rules_data,
    type_rules_data,
)
from .forms_deadlines import CallDeadlineFields, deadlines_data, posted_with_deadlines

# More vouchers than any programme offers; also keeps the number within an integer column.
MAX_QUOTA = 100_000
# A new call's form starts with this many empty criterion rows per voucher type.
NEW_CALL_CRITERION_ROWS = 3
# The submit button that adds an empty criterion row (its value names the voucher type)
# instead of saving: the page works without JavaScript.
ADD_ROW = "add_criterion"


def _clock(at: datetime) -> str:
    return f"{at:%H:%M}"


def _utc(at: datetime) -> str:
    return f"{at.astimezone(UTC):%H:%M} UTC"


def zone_problem(wall: datetime) -> str | None:
    """Why the wall-clock time ``wall`` (its tzinfo the zone) names no single instant.

    On the night the clocks go forward an hour of local times does not exist; on the
    night they go back an hour happens twice. Python would quietly pick one reading
    (fold=0), moving a call's deadline by an hour; such times are refused instead, with
    the UTC instants they could mean.
    """
    readings = [wall.replace(fold=fold) for fold in (0, 1)]
    if readings[0].utcoffset() == readings[1].utcoffset():
        return None
    naive = wall.replace(tzinfo=None)
    real = [r for r in readings if r.astimezone(UTC).astimezone(wall.tzinfo)
            .replace(tzinfo=None) == naive]
    first, second = sorted(_utc(r) for r in readings)
    instants = gettext("%(first)s or %(second)s", first=first, second=second)
    values = {"time": _clock(wall), "day": f"{wall.day} {wall:%B %Y}", "zone": str(wall.tzinfo),
              "instants": instants}
    if not real:
        return gettext("%(time)s does not exist on %(day)s in %(zone)s: the clocks go forward "
                       "that night. It could mean %(instants)s; give a time outside the "
                       "skipped hour.", **values)
    return gettext("%(time)s happens twice on %(day)s in %(zone)s, as the clocks go back: at "
                   "%(instants)s. Give a time outside the repeated hour, so the moment is not "
                   "in doubt.", **values)


class ProgrammeDateTimeField(DateTimeLocalField):
    """A date and time typed in the programme's time zone, naming exactly one instant."""

    def pre_validate(self, form) -> None:
        if self.data is not None and (problem := zone_problem(self.data)):
            raise ValidationError(problem)


def _local_datetime(label: str) -> ProgrammeDateTimeField:
    return ProgrammeDateTimeField(
        label, format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        tz=programme_zone, validators=[InputRequired(lazy_gettext("Give a date and time."))],
        description=lazy_gettext("In the programme's time zone."),
    )


class CriterionForm(Form):
    criterion_id = HiddenField()
    name = StringField(lazy_gettext("Criterion"), validators=[Length(max=200)])
    weight = NumberField(lazy_gettext("Weight"), places=2,
                         validators=[Optional(), above_zero, NumberRange(max=9999.99)])
    description = StringField(lazy_gettext("Guidance for evaluators"),
                              validators=[Length(max=2000)])
    minimum = CountField(lazy_gettext("Minimum score"), validators=[Optional()])
    remove = BooleanField(lazy_gettext("Remove"))

    @property
    def is_blank(self) -> bool:
        typed = [self.name.data, self.description.data, *(self.weight.raw_data or []),
                 *(self.minimum.raw_data or [])]
        return not self.criterion_id.data and not any((v or "").strip() for v in typed)

    @property
    def counts(self) -> bool:
        """A row that will be saved: neither left empty nor marked for removal."""
        return not self.is_blank and not self.remove.data

    # The type's highest score when it is valid (VoucherTypeForm sets it before validating).
    scale: int | None = None

    def validate(self, extra_validators=None) -> bool:
        if not self.counts:
            return True
        ok = super().validate(extra_validators)
        if self.scale is not None and (self.minimum.data or 0) > self.scale:
            self.minimum.errors.append(
                gettext("At most %(scale)s, the highest score.", scale=self.scale))
            ok = False
        if not (self.name.data or "").strip():
            self.name.errors.append(gettext("Name the criterion."))
            ok = False
        if self.weight.data is None and not self.weight.errors:
            self.weight.errors.append(gettext("Give a weight."))
            ok = False
        return ok

    def to_spec(self) -> CriterionSpec:
        existing = (self.criterion_id.data or "").strip()
        return CriterionSpec(
            id=int(existing) if existing.isdigit() else None,
            name=self.name.data.strip(), weight=self.weight.data,
            description=(self.description.data or "").strip(), minimum=self.minimum.data,
        )


class VoucherTypeForm(Form):
    """One voucher type's row; its fields only count when the type is offered."""

    offered = BooleanField(lazy_gettext("Offered in this call"))
    quota = IntegerField(lazy_gettext("Quota (number of vouchers)"),
                         validators=[InputRequired(lazy_gettext("Give the quota.")),
                                     NumberRange(min=0, max=MAX_QUOTA,
                                                 message=LazyString(lambda: gettext(
                                                     "Between 0 and %(most)s.",
                                                     most=format_number(MAX_QUOTA))))])
    max_amount = MoneyField(lazy_gettext("Maximum amount per voucher (€)"),
                            validators=[InputRequired(lazy_gettext("Give the maximum amount.")),
                                        above_zero])
    funding_rate = NumberField(
        # Two decimals of a percent: what the rate column holds exactly, so nothing typed
        # is rounded.
        lazy_gettext("Funding rate (% of eligible costs)"), places=2,
        validators=[InputRequired(lazy_gettext("Give the funding rate.")), above_zero,
                    NumberRange(max=100, message=lazy_gettext("At most 100%%."))],
    )
    envelope = MoneyField(lazy_gettext("Budget envelope (€)"),
                          validators=[InputRequired(lazy_gettext("Give the envelope.")),
                                      not_negative])
    score_scale = IntegerField(
        lazy_gettext("Highest score"),
        description=lazy_gettext("Evaluators score each criterion from 0 to this."),
        validators=[InputRequired(lazy_gettext("Give the highest score.")),
                    NumberRange(min=1, max=MAX_SCORE_SCALE)],
    )
    criteria = FieldList(FormField(CriterionForm))
    # Shown for the voucher types that buy from a provider (voucher_types.needs_provider).
    provider_other_region = BooleanField(
        lazy_gettext("The service provider must be based in another region than the SME"))
    attachments = FormField(AttachmentsForm,
                            label=lazy_gettext("Documents an application must attach"))
    threshold = NumberField(
        lazy_gettext("Threshold (least weighted total)"), places=2,
        description=lazy_gettext("On the scoring scale; below it an application cannot be "
                                 "awarded. Empty: no threshold."),
        validators=[Optional(), not_negative])

    def validate(self, extra_validators=None) -> bool:
        if not self.offered.data:
            return True
        # The threshold and the minimum scores lie on the scale, 0 to the highest score.
        scale = self.score_scale.data
        if not isinstance(scale, int) or not 1 <= scale <= MAX_SCORE_SCALE:
            scale = None
        for row in self.criteria:
            # Set before validating: the list's errors are gathered as its rows validate.
            row.form.scale = scale
        ok = super().validate(extra_validators)
        if not any(row.form.counts for row in self.criteria):
            self.form_errors.append(gettext("Give at least one scoring criterion."))
            ok = False
        if scale is not None and (self.threshold.data or 0) > scale:
            self.threshold.errors.append(
                gettext("At most %(scale)s, the highest score.", scale=scale))
            ok = False
        return ok

    def to_spec(self, voucher_type: str) -> VoucherTypeSpec:
        return VoucherTypeSpec(
            voucher_type=voucher_type, quota=self.quota.data, max_amount=self.max_amount.data,
            funding_rate=self.funding_rate.data / 100, envelope=self.envelope.data,
            score_scale=self.score_scale.data,
            criteria=[row.form.to_spec() for row in self.criteria if row.form.counts],
            provider_other_region=(bool(self.provider_other_region.data)
                                   and voucher_types.get(voucher_type).needs_provider),
            required_attachments=self.attachments.form.chosen(),
            threshold=self.threshold.data,
        )


class CallForm(FlaskForm, CallRulesFields, CallDeadlineFields):
    code = StringField(
        lazy_gettext("Code"),
        description=lazy_gettext("Starts every application reference, e.g. HLS2."),
        validators=[InputRequired(lazy_gettext("Give the call a code.")), Length(max=CODE_MAX),
                    Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
                           message=lazy_gettext("Letters, digits, dashes and underscores "
                                                "only."))],
    )
    title = StringField(lazy_gettext("Title"),
                        validators=[InputRequired(lazy_gettext("Give the call a title.")),
                                    Length(max=200)])
    description = TextAreaField(lazy_gettext("Description"), validators=[Length(max=10000)])
    opens_at = _local_datetime(lazy_gettext("Opens"))
    closes_at = _local_datetime(lazy_gettext("Closes"))
    # One row per voucher type, in the order of VOUCHER_TYPES.
    types = FieldList(FormField(VoucherTypeForm), min_entries=len(VOUCHER_TYPES),
                      max_entries=len(VOUCHER_TYPES))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if (self.opens_at.data and self.closes_at.data
                and self.closes_at.data <= self.opens_at.data):
            self.closes_at.errors.append(gettext("The call must close after it opens."))
            ok = False
        if not any(row.form.offered.data for row in self.types):
            self.form_errors.append(gettext("Offer at least one voucher type."))
            ok = False
        return self.check_rules(self.programme) and self.check_deadline() and ok

    # The call being edited (edit_call_form sets it).
    call: Call | None = None

    @property
    def programme(self) -> Programme | None:
        """The programme the call belongs to (its end bounds the implementation period)."""
        return self.call.programme if self.call is not None else None

    def type_rows(self):
        """(voucher type, its row) pairs for the template."""
        return list(zip(VOUCHER_TYPES, self.types, strict=True))

    def add_criterion_row(self, voucher_type: str) -> bool:
        for vt, row in self.type_rows():
            if vt == voucher_type:
                row.form.criteria.append_entry()
                return True
        return False

    def reworked(self) -> bool:
        """True when "Add a criterion row" was pressed: the row is added, nothing saved."""
        if ADD_ROW not in request.form:
            return False
        self.add_criterion_row(request.form[ADD_ROW])
        return True

    def to_spec(self) -> CallSpec:
        return CallSpec(
            code=self.code.data, title=self.title.data,
            description=self.description.data or "",
            opens_at=self.opens_at.data.astimezone(UTC),
            closes_at=self.closes_at.data.astimezone(UTC),
            types=[row.form.to_spec(vt) for vt, row in self.type_rows() if row.form.offered.data],
            **self.rules_spec(), **self.deadlines_spec(),
        )


class NewCallForm(CallForm):
    programme_id = SelectField(lazy_gettext("Programme"), coerce=int,
                               validators=[InputRequired(lazy_gettext("Choose the programme."))])
    programmes: dict[int, Programme] = {}

    @property
    def programme(self) -> Programme | None:
        return self.programmes.get(self.programme_id.data)


def _built(form_class, data: dict, evaluators: list[User]):
    """The form on GET drawn from ``data``; on POST read from the post (see
    forms_call_rules.posted_with_rules for a post without the rule fields)."""
    if request.method == "POST":
        shown = form_class(formdata=None, data=data)
        form = form_class(formdata=posted_with_deadlines(
            posted_with_rules(request.form, shown), shown))
    else:
        form = form_class(data=data)
    form.set_lead_choices(evaluators)
    return form


def new_call_form(programmes: list[Programme], evaluators: list[User]) -> NewCallForm:
    """The new call's form: on GET prefilled (the programme from ?programme=)."""
    form = _built(NewCallForm, {**new_call_data(),
                                "programme_id": request.args.get("programme", type=int)},
                  evaluators)
    form.programme_id.choices = [SelectChoice(p.id, p.name) for p in programmes]
    form.programmes = {p.id: p for p in programmes}
    return form


def edit_call_form(call: Call, evaluators: list[User]) -> CallForm:
    form = _built(CallForm, call_form_data(call), evaluators)
    form.call = call
    return form


def call_form_data(call: Call) -> dict:
    """The form's initial values for an existing call, one empty criterion row per type."""
    types = []
    for vt in VOUCHER_TYPES:
        cvt = call.voucher_type(vt)
        if cvt is None:
            types.append({"offered": False, "score_scale": 5, **new_type_rules(vt),
                          "criteria": [{}] * NEW_CALL_CRITERION_ROWS})
            continue
        types.append({
            "offered": True, "quota": cvt.quota, "max_amount": cvt.max_amount,
            "funding_rate": cvt.funding_rate * 100, "envelope": cvt.envelope,
            "score_scale": cvt.score_scale, **type_rules_data(cvt),
            "criteria": [{"criterion_id": str(c.id), "name": c.name, "weight": c.weight,
                          "description": c.description, "minimum": c.minimum}
                         for c in cvt.criteria] + [{}],
        })
    return {"code": call.code, "title": call.title, "description": call.description,
            "opens_at": call.opens_at, "closes_at": call.closes_at, "types": types,
            **rules_data(call), **deadlines_data(call)}


def new_call_data() -> dict:
    return {"types": [{"offered": True, "score_scale": 5, **new_type_rules(vt),
                       "criteria": [{}] * NEW_CALL_CRITERION_ROWS} for vt in VOUCHER_TYPES],
            **new_rules_data(), **deadlines_data()}
