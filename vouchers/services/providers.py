"""The service provider catalogue validation vouchers buy from.

Managers add, edit, deactivate and reactivate providers; a deactivated one leaves the
applicants' choices but stays on the applications that already name it. Like every
service, these functions check who asks, flush and never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import policy
from ..extensions import db
from ..i18n import N_
from ..models import Application, ServiceProvider, User
from .setup_checks import SetupRefused, checked_line
from .transaction import atomic

COUNTRY_PATTERN = re.compile(r"[A-Z]{2}")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Shown as a link: only web addresses, never javascript: or data: URLs.
WEBSITE_PATTERN = re.compile(r"https?://[^\s/]+\.[^\s]+$", re.IGNORECASE)
NOT_ALLOWED = N_("Only a programme manager keeps the provider catalogue.")


@dataclass
class ProviderSpec:
    name: str
    country: str
    region: str
    services: str = ""
    website: str = ""
    email: str = ""


@dataclass(frozen=True)
class CatalogueEntry:
    provider: ServiceProvider
    # Applications naming the provider, whatever their state.
    uses: int


def catalogue() -> list[CatalogueEntry]:
    """Every provider, active ones first, with how many applications name it."""
    providers = db.session.scalars(
        select(ServiceProvider).order_by(ServiceProvider.active.desc(),
                                         ServiceProvider.country, ServiceProvider.name)
    ).all()
    uses = dict(db.session.execute(
        select(Application.provider_id, func.count(Application.id))
        .where(Application.provider_id.is_not(None)).group_by(Application.provider_id)
    ).all())
    return [CatalogueEntry(p, uses.get(p.id, 0)) for p in providers]


def provider_problems(spec: ProviderSpec, except_provider: ServiceProvider | None = None
                      ) -> list[str]:
    problems: list[str] = []
    name = checked_line(spec.name, _("the provider's name"), problems,
                        _("Give the provider's name."))
    country = (spec.country or "").strip().upper()
    if not COUNTRY_PATTERN.fullmatch(country):
        problems.append(_("Give the country as a two-letter code, such as DE or NL."))
    checked_line(spec.region, _("the provider's region"), problems,
                 _("Give the provider's region."))
    website = (spec.website or "").strip()
    if website and not WEBSITE_PATTERN.match(website):
        problems.append(_("The website must be a full address starting with https://."))
    email = (spec.email or "").strip()
    if email and not EMAIL_PATTERN.fullmatch(email):
        problems.append(_("%(email)s is not an e-mail address.", email=repr(email)))
    if name and COUNTRY_PATTERN.fullmatch(country):
        query = select(ServiceProvider.name).where(
            func.lower(ServiceProvider.name) == name.lower(), ServiceProvider.country == country
        )
        if except_provider is not None:
            query = query.where(ServiceProvider.id != except_provider.id)
        existing = db.session.scalar(query.limit(1))
        if existing is not None:
            problems.append(_("%(provider)s (%(country)s) is already in the catalogue.",
                              provider=existing, country=country))
    return problems


def _check(spec: ProviderSpec, by: User, except_provider: ServiceProvider | None = None
           ) -> None:
    policy.ensure(policy.can_run_programme(by), _(NOT_ALLOWED))
    problems = provider_problems(spec, except_provider)
    if problems:
        raise SetupRefused(problems)


def _apply(provider: ServiceProvider, spec: ProviderSpec) -> None:
    provider.name = spec.name.strip()
    provider.country = spec.country.strip().upper()
    provider.region = spec.region.strip()
    provider.services = (spec.services or "").strip()
    provider.website = (spec.website or "").strip()
    provider.email = (spec.email or "").strip()


def add_provider(spec: ProviderSpec, by: User) -> ServiceProvider:
    _check(spec, by)
    with atomic():
        provider = ServiceProvider(active=True)
        _apply(provider, spec)
        db.session.add(provider)
    return provider


def update_provider(provider: ServiceProvider, spec: ProviderSpec, by: User) -> None:
    _check(spec, by, except_provider=provider)
    with atomic():
        _apply(provider, spec)


def set_provider_active(provider: ServiceProvider, active: bool, by: User) -> None:
    """Deactivated providers leave applicants' choices but stay on existing applications."""
    policy.ensure(policy.can_run_programme(by), _(NOT_ALLOWED))
    with atomic():
        provider.active = active
