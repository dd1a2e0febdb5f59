"""What a call's set-up says, and the rules it must meet whatever the database holds.

services/call_setup.py checks these first, then the rules that need the database (money
already committed, reviews already scored) and writes. The forms build these specs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import gettext as _

from .. import voucher_types
from ..clock import local_date
from ..countries import COUNTRY_ALIASES, VALID_COUNTRIES
from ..i18n import N_
from ..models import COMPANY_SIZES, VOUCHER_TYPE_LABELS, VOUCHER_TYPES
from ..models.programmes import DIVERGENCE_SHARE, SME_SIZES, SUPPORT_CAP
from ..money import CENT, MAX_MONEY
from .setup_checks import capital, checked_line, percent
from .wording import long_day, number

CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_-]*")
CODE_MAX = 20  # references are CODE-TT-NNNNN in a 30-character column
MAX_SCORE_SCALE = 100
MAX_WEIGHT = Decimal("9999.99")  # Numeric(6, 2)
RATE_STEP = Decimal("0.0001")  # Numeric(5, 4)
WEIGHT_STEP = Decimal("0.01")
COUNTRY_PATTERN = re.compile(r"[A-Za-z]{2}")
# More applications or vouchers per SME than any call allows; keeps within the column.
MAX_LIMIT = 100_000
LEAST_DIVERGENCE = Decimal("0.01")
REGION_EXAMPLE = "ES Catalonia"


@dataclass
class CriterionSpec:
    name: str
    weight: Decimal
    description: str = ""
    # The existing criterion this row edits; None adds a new one.
    id: int | None = None
    # The least score (on the type's scale) an award needs on this criterion.
    minimum: int | None = None


@dataclass
class VoucherTypeSpec:
    voucher_type: str
    quota: int
    max_amount: Decimal
    # The share of eligible costs the voucher pays: 0.75 for 75%.
    funding_rate: Decimal
    envelope: Decimal
    score_scale: int = 5
    criteria: list[CriterionSpec] = field(default_factory=list)
    # None: the voucher type's own default (voucher_types.REGISTRY).
    provider_other_region: bool | None = None
    required_attachments: list[str] | None = None
    # The least weighted total (on the scale) an award needs; None: no threshold.
    threshold: Decimal | None = None

    def __post_init__(self):
        registered = voucher_types.REGISTRY.get(self.voucher_type)
        if registered is None:
            return
        if self.provider_other_region is None:
            self.provider_other_region = registered.provider_other_region
        if self.required_attachments is None:
            self.required_attachments = list(registered.required_attachments)


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


# A CallSpec field left at KEEP (or missing from an older spec) keeps what the call has
# (a new call: the model's default).
KEEP: Any = _Keep()


@dataclass
class CallSpec:
    code: str
    title: str
    opens_at: datetime
    closes_at: datetime
    types: list[VoucherTypeSpec]
    description: str = ""
    # The eligibility rules; each default is a new call's (see models/programmes.py).
    # [country, region] pairs; None: the programme's partner regions.
    eligible_regions: list[list[str]] | None = None
    allowed_sizes: list[str] = field(default_factory=lambda: list(SME_SIZES))
    max_applications_per_type: int | None = 1
    max_vouchers_per_sme: int | None = None
    support_cap: Decimal | None = SUPPORT_CAP
    # None: the programme's last day.
    implementation_ends_on: date | None = None
    # Evaluation: 0.30 for 30% of the scale.
    divergence_share: Decimal = DIVERGENCE_SHARE
    extra_evaluator_on_divergence: bool = False
    lead_evaluator_id: int | None = None
    # Evaluators must work for another partner than the applicant's region's (KEEP: as
    # the call has it).
    evaluators_from_other_partners: Any = KEEP


def write_given(call, spec: CallSpec, names: tuple[str, ...]) -> None:
    """Copy the fields ``names`` of ``spec`` onto ``call``, but those it leaves at KEEP."""
    for name in names:
        value = getattr(spec, name, KEEP)
        if value is not KEEP:
            setattr(call, name, value)


def normalise_code(code: str) -> str:
    return (code or "").strip().upper()



def call_problems(spec: CallSpec) -> list[str]:
    """The rules a call must meet whatever the database holds, one sentence each."""
    problems = []
    code = normalise_code(spec.code)
    if not code:
        problems.append(_("Give the call a code."))
    elif len(code) > CODE_MAX or not CODE_PATTERN.fullmatch(code):
        problems.append(_("The call code may hold up to %(most)s letters, digits, dashes "
                          "and underscores.", most=number(CODE_MAX)))
    checked_line(spec.title, _("the call's title"), problems, _("Give the call a title."))
    if spec.opens_at is None or spec.closes_at is None:
        problems.append(_("Say when the call opens and closes."))
    elif spec.opens_at.tzinfo is None or spec.closes_at.tzinfo is None:
        raise ValueError("naive datetime given; the call window is kept in UTC")
    elif spec.closes_at <= spec.opens_at:
        problems.append(_("The call must close after it opens."))
    seen = set()
    for t in spec.types:
        if t.voucher_type not in VOUCHER_TYPES:
            problems.append(_("There is no %(code)s voucher type.",
                              code=repr(t.voucher_type)))
            continue
        if t.voucher_type in seen:
            problems.append(_("%(type)s vouchers appear twice.",
                              type=_(VOUCHER_TYPE_LABELS[t.voucher_type])))
            continue
        seen.add(t.voucher_type)
        problems.extend(_type_problems(t))
    if not spec.types:
        problems.append(_("Offer at least one voucher type."))
    problems.extend(rules_problems(spec))
    return problems


def _type_problems(t: VoucherTypeSpec) -> list[str]:
    # The type's label starts each sentence, translated (as the form's headings show it).
    label = _(VOUCHER_TYPE_LABELS[t.voucher_type])
    problems = []
    if t.quota is None or t.quota < 0:
        problems.append(_("%(type)s: the quota cannot be negative.", type=label))
    if t.max_amount is None or t.max_amount <= 0:
        problems.append(_("%(type)s: the maximum amount must be more than zero.", type=label))
    elif t.max_amount > MAX_MONEY:
        problems.append(_("%(type)s: the maximum amount is too large.", type=label))
    if t.funding_rate is None or not 0 < t.funding_rate <= 1:
        problems.append(_("%(type)s: the funding rate must be more than 0%% and at most "
                          "100%%.", type=label))
    elif rate(t.funding_rate) == 0:
        # Kept to a hundredth of a percent: a smaller rate would be stored as 0%.
        problems.append(_("%(type)s: a funding rate of %(rate)s%% rounds to 0%%; the smallest "
                          "rate is %(least)s%%.", type=label,
                          rate=percent(t.funding_rate * 100), least=percent(RATE_STEP * 100)))
    if t.envelope is None or t.envelope < 0:
        problems.append(_("%(type)s: the envelope cannot be negative.", type=label))
    elif t.envelope > MAX_MONEY:
        problems.append(_("%(type)s: the envelope is too large.", type=label))
    if t.score_scale is None or not 1 <= t.score_scale <= MAX_SCORE_SCALE:
        problems.append(_("%(type)s: scores run from 0 to a maximum between 1 and "
                          "%(most)s.", type=label, most=number(MAX_SCORE_SCALE)))
    if not t.criteria:
        problems.append(_("%(type)s: give at least one scoring criterion.", type=label))
    names = set()
    for c in t.criteria:
        name = checked_line(c.name, _("%(type)s: the name of a criterion", type=label),
                            problems, _("%(type)s: every criterion needs a name.", type=label))
        if name and name.lower() in names:
            problems.append(_("%(type)s: the criterion %(criterion)s appears twice.",
                              type=label, criterion=repr(name)))
        names.add(name.lower())
        # The name as the manager typed it, quoted ('Impact'); none yet: "a criterion".
        named = repr(name or _("a criterion"))
        if c.weight is None or weight(c.weight) <= 0:
            problems.append(_("%(type)s: the weight of %(criterion)s must be more than zero.",
                              type=label, criterion=named))
        elif c.weight > MAX_WEIGHT:
            problems.append(_("%(type)s: the weight of %(criterion)s is too large.",
                              type=label, criterion=repr(name)))
        if c.minimum is not None and not _on_scale(c.minimum, t.score_scale, whole=True):
            problems.append(_("%(type)s: the minimum score of %(criterion)s must be a whole "
                              "number from 0 to %(scale)s.", type=label, criterion=named,
                              scale=t.score_scale))
    problems.extend(_type_rule_problems(t, label))
    return problems


def _on_scale(value, scale, *, whole: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return False
    if whole and not isinstance(value, int):
        return False
    if isinstance(value, Decimal) and (not value.is_finite() or value != value.quantize(CENT)):
        return False
    return isinstance(scale, int) and 0 <= value <= scale


def _type_rule_problems(t: VoucherTypeSpec, label: str) -> list[str]:
    problems = []
    if t.provider_other_region and not voucher_types.get(t.voucher_type).needs_provider:
        problems.append(_("%(type)s vouchers name no service provider: the provider cannot "
                          "be required to be in another region.", type=label))
    for kind in t.required_attachments or ():
        if kind not in voucher_types.ATTACHMENT_KINDS:
            problems.append(_("%(type)s: there is no kind of attachment %(kind)s.",
                              type=label, kind=repr(kind)))
    if t.threshold is not None and not _on_scale(t.threshold, t.score_scale):
        problems.append(_("%(type)s: the threshold must be from 0 to %(scale)s (the highest "
                          "score), with at most two decimals.", type=label,
                          scale=t.score_scale))
    return problems


# Eligibility and evaluation rules of a call ---------------------------------------------


def rules_problems(spec: CallSpec) -> list[str]:
    """The call-wide rules' problems that need no database (the programme's end does)."""
    problems = []
    if spec.eligible_regions is not None:
        clean_regions(spec.eligible_regions, problems)
        if not spec.eligible_regions:
            problems.append(_("Name at least one eligible region, or leave the list empty "
                              "for the programme's partner regions."))
    sizes = spec.allowed_sizes or []
    unknown = [s for s in sizes if s not in COMPANY_SIZES]
    if unknown:
        problems.append(_("There is no enterprise size %(size)s.", size=repr(unknown[0])))
    elif not sizes:
        problems.append(_("Allow at least one enterprise size."))
    for value, wrong in ((spec.max_applications_per_type,
                          N_("The number of applications per SME and voucher type must be "
                             "from 1 to %(most)s, or left empty for no limit.")),
                         (spec.max_vouchers_per_sme,
                          N_("The number of vouchers per SME must be from 1 to %(most)s, or "
                             "left empty for no limit."))):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= MAX_LIMIT):
            problems.append(_(wrong, most=number(MAX_LIMIT)))
    cap = spec.support_cap
    if cap is not None and (not cap.is_finite() or cap <= 0 or cap > MAX_MONEY
                            or cap != cap.quantize(CENT)):
        problems.append(_("The support cap per SME must be an amount in cents above zero, "
                          "or left empty for no cap."))
    ends = spec.implementation_ends_on
    if ends is not None and spec.closes_at is not None and spec.closes_at.tzinfo is not None:
        closes = local_date(spec.closes_at)
        if ends < closes:
            problems.append(_("The implementation period cannot end (%(ends)s) before the "
                              "call closes (%(closes)s).", ends=long_day(ends),
                              closes=long_day(closes)))
    share = spec.divergence_share
    if (share is None or not share.is_finite() or not LEAST_DIVERGENCE <= share <= 1
            or rate(share) != share):
        problems.append(_("The divergence share must be from 1% to 100% of the scale, with "
                          "at most two decimals of a percent."))
    return problems


def end_problems(spec: CallSpec, programme_ends_on: date) -> list[str]:
    ends = spec.implementation_ends_on
    if ends is not None and ends > programme_ends_on:
        return [_("The implementation period cannot end (%(ends)s) after the programme ends "
                  "(%(programme_ends)s).", ends=long_day(ends),
                  programme_ends=long_day(programme_ends_on))]
    return []


def sizes_in_order(sizes) -> list[str]:
    return [s for s in COMPANY_SIZES if s in set(sizes)]


def region_key(country: str, region: str) -> tuple[str, str]:
    """How two regions compare (a call's list, a company's, a provider's): the country
    code and the name, case and runs of spaces aside."""
    return (country or "").strip().casefold(), " ".join((region or "").split()).casefold()


def clean_regions(pairs, problems: list[str]) -> list[list[str]]:
    """[country, region] pairs checked: two capital letters, a region's name, no repeats."""
    cleaned: list[list[str]] = []
    for i, pair in enumerate(pairs, 1):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            problems.append(_("Region %(number)s is not a country and a region.", number=i))
            continue
        region = _region(str(pair[0]), str(pair[1]), _("region %(number)s", number=i),
                         problems, cleaned)
        if region:
            cleaned.append(region)
    return cleaned


def _region(country: str, name: str, where: str, problems: list[str],
            seen: list[list[str]]) -> list[str] | None:
    """``where`` ("region 2", "line 3") comes translated, in lower case."""
    country = country.strip()
    at = capital(where)
    # Checked before upper-casing: "ß".upper() is "SS".
    if not COUNTRY_PATTERN.fullmatch(country):
        problems.append(_("%(where)s: start with the two-letter country code, then the "
                          "region, as in “%(example)s”.", where=at, example=REGION_EXAMPLE))
        return None
    country = COUNTRY_ALIASES.get(country.upper(), country.upper())
    if country not in VALID_COUNTRIES:
        problems.append(_("%(where)s: %(country)s is not a country code; use the two letters "
                          "of the country, as in “%(example)s”.", where=at, country=country,
                          example=REGION_EXAMPLE))
        return None
    name = " ".join((name or "").split())
    name = checked_line(name, _("the region's name (%(where)s)", where=where), problems,
                        _("%(where)s: give the region's name after %(country)s, as in "
                          "“%(example)s”.", where=at, country=country, example=REGION_EXAMPLE))
    if not name:
        return None
    if any(region_key(c, r) == region_key(country, name) for c, r in seen):
        problems.append(_("%(where)s: %(country)s %(region)s is listed twice.", where=at,
                          country=country, region=name))
        return None
    return [country, name]


def parse_regions(text: str) -> tuple[list[list[str]] | None, list[str]]:
    """The regions of a text area, one "CC Region" a line; None when it is left empty."""
    problems: list[str] = []
    regions: list[list[str]] = []
    for line_number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        country, *name = line.split(None, 1)
        region = _region(country, "".join(name), _("line %(number)s", number=line_number),
                         problems, regions)
        if region:
            regions.append(region)
    return (regions or None), problems


def format_regions(regions) -> str:
    return "\n".join(f"{country} {name}" for country, name in regions or ())


def rate(value: Decimal) -> Decimal:
    return value.quantize(RATE_STEP, rounding=ROUND_HALF_UP)


def weight(value: Decimal) -> Decimal:
    return value.quantize(WEIGHT_STEP, rounding=ROUND_HALF_UP)
