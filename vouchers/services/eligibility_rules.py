"""The eligibility rules themselves: one check per rule code, each saying why.

A check reads only the ``Facts`` gathered for one application (services/eligibility.py
gathers them, for one application or for a whole call at once) and returns whether the
rule passes and the reason, in words an applicant and an auditor both read. A rule whose
facts are not given yet (no provider chosen, no dates) passes: completeness asks for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .. import voucher_types as types
from ..models import Application, EligibilityOverride, Organisation, ServiceProvider
from ..money import format_eur
from ..text import listing
from .call_specs import region_key
from .undertaking import Standing


@dataclass(frozen=True)
class Facts:
    """What the rules read about one application."""

    application: Application
    organisation: Organisation
    provider: ServiceProvider | None
    # Kinds of the application's own attachments (not the final report's evidence).
    kinds: frozenset[str]
    # The SME's applications in this call and type that count, this one included.
    same_type: int
    # Activities may not take place before this day (the day of submission).
    earliest: date
    submitted: bool
    standing: Standing
    amount: Decimal
    # rule code -> message, from undertaking.limit_problems.
    limits: dict[str, str]
    overrides: dict[str, EligibilityOverride] = field(default_factory=dict)

    @property
    def call(self):
        return self.application.call

    @property
    def cvt(self):
        return self.application.call_voucher_type


Check = Callable[[Facts], tuple[bool, str]]


@dataclass(frozen=True)
class Rule:
    code: str
    label: str
    check: Check
    overridable: bool = True
    depends_on_awards: bool = False


def _place(country: str, region: str) -> str:
    return f"{region} ({country})"


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def region(f: Facts) -> tuple[bool, str]:
    regions = f.call.regions
    org = f.organisation
    if not regions:
        return True, "The call sets no eligible regions: companies of every region may apply."
    here = _place(org.country, org.region)
    if region_key(org.country, org.region) in {region_key(c, r) for c, r in regions}:
        return True, f"The company is based in {here}, one of the call's eligible regions."
    eligible = listing([_place(c, r) for c, r in regions])
    return False, (f"The company is based in {here}, which is not one of the call's eligible "
                   f"regions: {eligible}.")


def provider_region(f: Facts) -> tuple[bool, str]:
    if not (f.cvt.provider_other_region and types.get(f.application.voucher_type).needs_provider):
        return True, ("The call does not ask for a provider from another region for this "
                      "voucher type.")
    if f.provider is None:
        return True, "No service provider chosen yet."
    org, provider = f.organisation, f.provider
    where = _place(provider.country, provider.region)
    if region_key(provider.country, provider.region) == region_key(org.country, org.region):
        return False, (f"{provider.name} is based in {where}, the company's own region; this "
                       "voucher type buys services from a provider in another partner region.")
    return True, (f"{provider.name} is based in {where}, another region than the company's "
                  f"({_place(org.country, org.region)}).")


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def activity_dates(f: Facts) -> tuple[bool, str]:
    fields = [d for d in types.get(f.application.voucher_type).details if d.is_date]
    if not fields:
        return True, "This voucher type has no activity dates."
    last = f.call.last_activity_day
    # A draft is judged as if submitted today: its activities may not start earlier.
    first = f"{'the day of submission' if f.submitted else 'today'} ({_day(f.earliest)})"
    details = f.application.details or {}
    problems, missing = [], False
    for detail in fields:
        value = _as_date(details.get(detail.key))
        if value is None:
            missing = True
        elif value < f.earliest:
            problems.append(f"{detail.label} ({_day(value)}) is before {first}")
        elif value > last:
            problems.append(f"{detail.label} ({_day(value)}) is after the last day of "
                            f"activities ({_day(last)})")
    if problems:
        return False, ("; ".join(problems) + ". Activities must take place between the day "
                       "of submission and the end of the call's implementation period.")
    if missing:
        return True, "Dates not given yet: they are checked once they are filled in."
    return True, (f"Every date is between {first} and the last day of activities "
                  f"({_day(last)}).")


def attachments(f: Facts) -> tuple[bool, str]:
    required = list(f.cvt.required_attachments or [])
    if not required:
        return True, "The call requires no particular attachment for this voucher type."
    labels = {kind: types.ATTACHMENT_KINDS.get(kind, kind) for kind in required}
    missing = [labels[kind] for kind in required if kind not in f.kinds]
    if missing:
        return False, (f"Missing: {listing(missing)}. Upload it and say what it is when "
                       "uploading.")
    return True, f"Attached: {listing(list(labels.values()))}."


def size(f: Facts) -> tuple[bool, str]:
    allowed = list(f.call.allowed_sizes or [])
    company = f.organisation.size
    if company in allowed:
        return True, f"A {company} enterprise: the call is open to it."
    if not allowed:
        return False, "The call is open to no enterprise size."
    return False, (f"The company is a {company} enterprise; the call is open to "
                   f"{listing(allowed)} enterprises only.")


def applications_per_type(f: Facts) -> tuple[bool, str]:
    limit = f.call.max_applications_per_type
    kind = types.label(f.application.voucher_type).lower()
    n = f.same_type
    held = f"{n} application{'s' if n != 1 else ''} for {kind} in this call (this one included)"
    if limit is None:
        return True, f"The call sets no limit; the company has {held}."
    if n <= limit:
        return True, f"The company has {held}; the call allows {limit}."
    return False, f"The company has {held}; the call allows {limit} per company."


def vouchers_per_sme(f: Facts) -> tuple[bool, str]:
    if "vouchers_per_sme" in f.limits:
        return False, f.limits["vouchers_per_sme"]
    limit = f.call.max_vouchers_per_sme
    held = f.standing.vouchers
    so_far = (f"the company holds {held} other voucher{'s' if held != 1 else ''} of the "
              "programme")
    if limit is None:
        return True, f"The call sets no limit on vouchers per company; {so_far}."
    return True, f"{so_far[0].upper()}{so_far[1:]}; the call allows {limit} per company."


def support_cap(f: Facts) -> tuple[bool, str]:
    if "support_cap" in f.limits:
        return False, f.limits["support_cap"]
    cap = f.call.support_cap
    total = format_eur(f.standing.support + f.amount)
    if cap is None:
        return True, f"The call sets no cap; support to the company would be {total}."
    return True, (f"Support to the company over the programme would be {total} with this "
                  f"voucher, within the cap of {format_eur(cap)}.")


def de_minimis(f: Facts) -> tuple[bool, str]:
    if "de_minimis" in f.limits:
        return False, f.limits["de_minimis"]
    total = format_eur(f.standing.de_minimis + f.amount)
    return True, (f"De minimis aid over the rolling three years, the aid declared and "
                  f"awarded here included, would be {total} with this voucher: within the "
                  "ceiling.")


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("region", "Eligible region", region),
    Rule("provider_region", "Provider from another region", provider_region),
    Rule("activity_dates", "Activity dates", activity_dates),
    Rule("attachments", "Required attachments", attachments),
    Rule("size", "Enterprise size", size),
    Rule("applications_per_type", "Applications per voucher type", applications_per_type),
    Rule("vouchers_per_sme", "Vouchers per company", vouchers_per_sme,
         depends_on_awards=True),
    # The legal ceilings (EU rules) admit no exception.
    Rule("support_cap", "Support cap per company", support_cap, overridable=False,
         depends_on_awards=True),
    Rule("de_minimis", "De minimis ceiling", de_minimis, overridable=False,
         depends_on_awards=True),
)}
