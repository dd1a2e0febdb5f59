"""A partner's regions as the partner form's text area holds them: one
"CC | Region name | NUTS code" a line, parsed and each line's problem said in the reader's
language (services/partner_setup.py saves them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _

from ..countries import COUNTRY_ALIASES, VALID_COUNTRIES
from ..models import Partner
from .call_specs import region_key
from .setup_checks import checked_line

NUTS_COUNTRY = {"GR": "EL", "GB": "UK"}
NUTS_PATTERN = re.compile(r"[A-Z]{2}[A-Z0-9]{1,3}")
LINE_EXAMPLE = "ES | Catalonia | ES51"


@dataclass
class RegionSpec:
    country: str
    region: str
    nuts_code: str


def format_region_lines(partner: Partner | None) -> str:
    return "\n".join(f"{r.country} | {r.region} | {r.nuts_code}"
                     for r in (partner.regions if partner else ()))


def parse_region_lines(text: str) -> tuple[list[RegionSpec], list[str]]:
    """The regions of a text area, one "CC | Region name | NUTS code" a line; each line's
    problem noted (the country, the NUTS code that must start with it, a line twice)."""
    regions: list[RegionSpec] = []
    problems: list[str] = []
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        where = _("Regions, line %(number)s", number=number)
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3:
            problems.append(_("%(where)s: write the country, the region's name and its NUTS "
                              "code separated by |, as in “%(example)s”.", where=where,
                              example=LINE_EXAMPLE))
            continue
        # Codes are written in capitals; "es" or "eur" typed in a hurry mean the same.
        country, name, nuts = parts[0].upper(), " ".join(parts[1].split()), parts[2].upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            problems.append(_("%(where)s: give the country as two capital letters, as in "
                              "“%(example)s”.", where=where, example=LINE_EXAMPLE))
            continue
        country = COUNTRY_ALIASES.get(country, country)
        if country not in VALID_COUNTRIES:
            problems.append(
                _("%(where)s: %(country)s is not a country code (Greece is GR; its NUTS "
                  "codes start with EL).", where=where, country=country) if country == "EL"
                else _("%(where)s: %(country)s is not a country code.", where=where,
                       country=country))
            continue
        name = checked_line(
            name, _("the region's name (%(where)s)",
                    where=_("regions, line %(number)s", number=number)),
            problems, _("%(where)s: give the region's name after %(country)s.", where=where,
                        country=country))
        if not name:
            continue
        prefix = NUTS_COUNTRY.get(country, country)
        if not NUTS_PATTERN.fullmatch(nuts) or not nuts.startswith(prefix):
            problems.append(_("%(where)s: the NUTS code of a region of %(country)s has 3 to 5 "
                              "letters and digits and starts with %(prefix)s (as %(prefix)s1 "
                              "or %(prefix)s12); “%(nuts)s” does not.", where=where,
                              country=country, prefix=prefix, nuts=nuts or _("nothing")))
            continue
        if any(region_key(r.country, r.region) == region_key(country, name) for r in regions):
            problems.append(_("%(where)s: %(country)s %(region)s is listed twice.",
                              where=where, country=country, region=name))
            continue
        regions.append(RegionSpec(country, name, nuts))
    return regions, problems
