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

from flask_babel import gettext as _
from flask_babel import ngettext

from .. import voucher_types as types
from ..models import Application, EligibilityOverride, Organisation, ServiceProvider
from .call_specs import region_key
from .undertaking import Standing
from .wording import N_, both, eur, in_sentence, short_day


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
    return short_day(value)


def region(f: Facts) -> tuple[bool, str]:
    regions = f.call.regions
    org = f.organisation
    if not regions:
        return True, _("The call sets no eligible regions: companies of every region may "
                       "apply.")
    here = _place(org.country, org.region)
    if region_key(org.country, org.region) in {region_key(c, r) for c, r in regions}:
        return True, _("The company is based in %(place)s, one of the call's eligible "
                       "regions.", place=here)
    eligible = both([_place(c, r) for c, r in regions])
    return False, _("The company is based in %(place)s, which is not one of the call's "
                    "eligible regions: %(eligible)s.", place=here, eligible=eligible)


def provider_region(f: Facts) -> tuple[bool, str]:
    if not (f.cvt.provider_other_region and types.get(f.application.voucher_type).needs_provider):
        return True, _("The call does not ask for a provider from another region for this "
                       "voucher type.")
    if f.provider is None:
        return True, _("No service provider chosen yet.")
    org, provider = f.organisation, f.provider
    where = _place(provider.country, provider.region)
    if region_key(provider.country, provider.region) == region_key(org.country, org.region):
        return False, _("%(provider)s is based in %(place)s, the company's own region; this "
                        "voucher type buys services from a provider in another partner "
                        "region.", provider=provider.name, place=where)
    return True, _("%(provider)s is based in %(place)s, another region than the company's "
                   "(%(own)s).", provider=provider.name, place=where,
                   own=_place(org.country, org.region))


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
        return True, _("This voucher type has no activity dates.")
    last = f.call.last_activity_day
    # A draft is judged as if submitted today: its activities may not start earlier.
    first = (_("the day of submission (%(day)s)", day=_day(f.earliest)) if f.submitted
             else _("today (%(day)s)", day=_day(f.earliest)))
    details = f.application.details or {}
    problems, missing = [], False
    for detail in fields:
        value = _as_date(details.get(detail.key))
        if value is None:
            missing = True
        elif value < f.earliest:
            problems.append(_("%(field)s (%(day)s) is before %(first)s", field=_(detail.label),
                              day=_day(value), first=first))
        elif value > last:
            problems.append(_("%(field)s (%(day)s) is after the last day of activities "
                              "(%(last)s)", field=_(detail.label), day=_day(value),
                              last=_day(last)))
    if problems:
        return False, _("%(problems)s. Activities must take place between the day of "
                        "submission and the end of the call's implementation period.",
                        problems="; ".join(problems))
    if missing:
        return True, _("Dates not given yet: they are checked once they are filled in.")
    return True, _("Every date is between %(first)s and the last day of activities "
                   "(%(last)s).", first=first, last=_day(last))


def attachments(f: Facts) -> tuple[bool, str]:
    required = list(f.cvt.required_attachments or [])
    if not required:
        return True, _("The call requires no particular attachment for this voucher type.")
    labels = {kind: _(types.ATTACHMENT_KINDS.get(kind, kind)) for kind in required}
    missing = [labels[kind] for kind in required if kind not in f.kinds]
    if missing:
        return False, _("Missing: %(missing)s. Upload it and say what it is when uploading.",
                        missing=both(missing))
    return True, _("Attached: %(attached)s.", attached=both(list(labels.values())))


# The enterprise sizes as the size rule's sentences say them (models.COMPANY_SIZES).
SIZE_WORDS = (N_("micro"), N_("small"), N_("medium"), N_("large"))


def size(f: Facts) -> tuple[bool, str]:
    allowed = list(f.call.allowed_sizes or [])
    company = f.organisation.size
    if company in allowed:
        return True, _("A %(size)s enterprise: the call is open to it.", size=_(company))
    if not allowed:
        return False, _("The call is open to no enterprise size.")
    return False, _("The company is a %(size)s enterprise; the call is open to %(allowed)s "
                    "enterprises only.", size=_(company),
                    allowed=both([_(s) for s in allowed]))


def applications_per_type(f: Facts) -> tuple[bool, str]:
    limit = f.call.max_applications_per_type
    kind = in_sentence(types.label(f.application.voucher_type))
    n = f.same_type
    held = ngettext("%(num)s application for %(kind)s in this call (this one included)",
                    "%(num)s applications for %(kind)s in this call (this one included)",
                    n, kind=kind)
    if limit is None:
        return True, _("The call sets no limit; the company has %(held)s.", held=held)
    if n <= limit:
        return True, _("The company has %(held)s; the call allows %(limit)s.", held=held,
                       limit=limit)
    return False, _("The company has %(held)s; the call allows %(limit)s per company.",
                    held=held, limit=limit)


def vouchers_per_sme(f: Facts) -> tuple[bool, str]:
    if "vouchers_per_sme" in f.limits:
        return False, f.limits["vouchers_per_sme"]
    limit = f.call.max_vouchers_per_sme
    held = f.standing.vouchers
    if limit is None:
        return True, ngettext(
            "The call sets no limit on vouchers per company; the company holds %(num)s "
            "other voucher of the programme.",
            "The call sets no limit on vouchers per company; the company holds %(num)s "
            "other vouchers of the programme.", held)
    return True, ngettext(
        "The company holds %(num)s other voucher of the programme; the call allows "
        "%(limit)s per company.",
        "The company holds %(num)s other vouchers of the programme; the call allows "
        "%(limit)s per company.", held, limit=limit)


def support_cap(f: Facts) -> tuple[bool, str]:
    if "support_cap" in f.limits:
        return False, f.limits["support_cap"]
    cap = f.call.support_cap
    total = eur(f.standing.support + f.amount)
    if cap is None:
        return True, _("The call sets no cap; support to the company would be %(total)s.",
                       total=total)
    return True, _("Support to the company over the programme would be %(total)s with this "
                   "voucher, within the cap of %(cap)s.", total=total, cap=eur(cap))


def de_minimis(f: Facts) -> tuple[bool, str]:
    if "de_minimis" in f.limits:
        return False, f.limits["de_minimis"]
    total = eur(f.standing.de_minimis + f.amount)
    return True, _("De minimis aid over the rolling three years, the aid declared and "
                   "awarded here included, would be %(total)s with this voucher: within the "
                   "ceiling.", total=total)


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("region", N_("Eligible region"), region),
    Rule("provider_region", N_("Provider from another region"), provider_region),
    Rule("activity_dates", N_("Activity dates"), activity_dates),
    Rule("attachments", N_("Required attachments"), attachments),
    Rule("size", N_("Enterprise size"), size),
    Rule("applications_per_type", N_("Applications per voucher type"), applications_per_type),
    Rule("vouchers_per_sme", N_("Vouchers per company"), vouchers_per_sme,
         depends_on_awards=True),
    # The legal ceilings (EU rules) admit no exception.
    Rule("support_cap", N_("Support cap per company"), support_cap, overridable=False,
         depends_on_awards=True),
    Rule("de_minimis", N_("De minimis ceiling"), de_minimis, overridable=False,
         depends_on_awards=True),
)}
