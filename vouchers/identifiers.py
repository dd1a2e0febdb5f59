"""Company identifiers and bank details, checked with the libraries their users trust.

python-stdnum knows each country's VAT and registry numbers (their formats and check
digits), schwifty the IBAN and BIC rules. These are pure checks (no database):
each returns the compact form to store, or raises IdentifierError with a sentence for the
person who typed the value, naming what is wrong ("the check digits do not match"), in the
request's language (English outside one). English names a country's numbers with its
adjective ("a valid Austrian VAT number"); the other languages get the country's name.
"""

from __future__ import annotations

import re
import warnings
from importlib import import_module
from types import ModuleType

from babel.lists import format_list
from flask_babel import gettext as _
from schwifty import BIC, IBAN
from schwifty import exceptions as bank_errors
from stdnum import exceptions as number_errors
from stdnum.ch import vat as ch_vat
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat
from stdnum.no import mva as no_mva

from .i18n import N_, reader_locale
from .identifier_words import (
    IdentifierError,
    _alnum,
    _article,
    _country,
    _national,
    _place,
    _reason,
    _shown,
    _text,
    adjective,
)

# The columns (vouchers/models/people.py) and the SEPA limit of a creditor's name.
MAX_REGISTRY, MAX_VAT, MAX_ACCOUNT_HOLDER = 40, 20, 70


# --- VAT numbers -------------------------------------------------------------------------

# The prefix of a company's VAT numbers where it is not its country code: Greece writes
# EL (GR accepted, EL stored), the United Kingdom GB or XI (Northern Ireland), Switzerland
# CHE (its UID with a MWST, TVA, IVA or TPV suffix).
_PREFIXES = {"GR": ("EL", "GR"), "UK": ("GB", "XI"), "CH": ("CHE",)}


def vat_prefixes(country: str) -> tuple[str, ...]:
    return _PREFIXES.get(country, (country,))


def _eu(compact: str) -> str:
    number = eu_vat.validate(compact)
    return "EL" + number[2:] if number.startswith("GR") else number


def _uk(compact: str) -> str:
    if compact.startswith("XI"):
        return eu_vat.validate(compact)
    return "GB" + gb_vat.validate(compact)


# Countries whose VAT numbers stdnum checks: the EU's member states, the UK, Switzerland,
# Norway. (Iceland's VSK and Liechtenstein have no prefix convention the form could rely
# on: their VAT numbers keep the loose rule below.)
_VAT_CHECKS = {
    **{code.upper(): _eu for code in eu_vat.MEMBER_STATES if code not in ("gr", "xi")},
    "GR": _eu, "UK": _uk, "CH": ch_vat.validate, "NO": lambda c: "NO" + no_mva.validate(c),
}
# Prefix -> company country, to recognise another country's VAT number.
_PREFIX_COUNTRY = {prefix: country for country in _VAT_CHECKS
                   for prefix in vat_prefixes(country)}


def _foreign_prefix(compact: str, country: str) -> str | None:
    for prefix in sorted(_PREFIX_COUNTRY, key=len, reverse=True):
        if compact.startswith(prefix):
            other = _PREFIX_COUNTRY[prefix]
            return other if other != country else None
    return None


def _looks_like_vat(compact: str, prefixes: tuple[str, ...]) -> bool:
    """A prefix followed mostly by digits: "DK13585628", not the court "Detmold HRB 12"."""
    for prefix in prefixes:
        rest = compact[len(prefix):]
        if compact.startswith(prefix) and rest and 2 * sum(c.isdigit() for c in rest) >= len(rest):
            return True
    return False


def _valid(check, compact: str) -> str | None:
    try:
        return check(compact)
    except number_errors.ValidationError:
        return None


def vat_number(value: object, country: str) -> str | None:
    """The compact VAT number (with its prefix) of a company in ``country``; None if empty.

    A number typed without its prefix gets the country's ("004495445B01" of a Dutch company
    is NL004495445B01). Countries stdnum has no VAT module for keep a loose rule.
    """
    text = _text(value)
    if not text:
        return None
    compact = _alnum(text)
    check = _VAT_CHECKS.get(country)
    if check is None:
        if not 4 <= len(compact) <= MAX_VAT:
            raise IdentifierError(_("Give the VAT number as 4 to 20 letters and digits."))
        return compact
    prefixes = vat_prefixes(country)
    if not compact.startswith(prefixes):
        other = _foreign_prefix(compact, country)
        # A French key may begin with letters that are another country's prefix: a number
        # valid with the company's own prefix in front is the company's.
        if other is not None and _valid(check, prefixes[0] + compact) is None:
            raise IdentifierError(_(
                "%(value)s begins with the code of %(other)s VAT numbers, but the company is "
                "in %(country)s: give its %(national)s VAT number, which begins with "
                "%(prefix)s.", value=_shown(text), other=_national(other),
                country=_country(country), national=_national(country), prefix=prefixes[0]))
        compact = prefixes[0] + compact
    try:
        return check(compact)
    except number_errors.ValidationError as exc:
        raise IdentifierError(_("%(value)s is not a valid %(national)s VAT number: "
                                "%(reason)s.", value=_shown(text), national=_national(country),
                                reason=_reason(exc))) from exc


# --- company registry numbers ------------------------------------------------------------

# The national number a company is registered under, where stdnum checks it: the number
# the national register itself assigns, or the one number every company of that country
# is known by when the register's own number has no check digits (Belgium's enterprise
# number, Italy's partita IVA, Poland's REGON and NIP; Poland's KRS number has none).
# Countries not listed (the Netherlands' KvK number, Ireland's CRO number, the UK's
# Companies House number, ...) have no stdnum module and keep the loose rule: 4 to 40
# letters and digits. A valid VAT number of the company's country is accepted everywhere,
# as the single field always said ("VAT or company registry number").
_REGISTRY_MODULES = {
    "AT": (("Firmenbuchnummer", "at.businessid"),),
    "BE": ((N_("enterprise number"), "be.vat"),),
    "BG": (("UIC (EIK)", "bg.vat"),),
    "CH": (("UID", "ch.uid"),),
    "CZ": (("IČO", "cz.dic"),),
    "DE": (("Handelsregisternummer", "de.handelsregisternummer"),),
    "DK": ((N_("CVR number"), "dk.cvr"),),
    "EE": ((N_("registry code"), "ee.registrikood"),),
    "ES": (("NIF", "es.nif"),),
    "FI": ((N_("business ID (Y-tunnus)"), "fi.ytunnus"),),
    "FR": ((N_("SIREN number"), "fr.siren"), (N_("SIRET number"), "fr.siret")),
    "HR": (("OIB", "hr.oib"),),
    "IS": (("kennitala", "is_.kennitala"),),
    "IT": (("partita IVA", "it.iva"),),
    "LV": ((N_("registration number"), "lv.pvn"),),
    "NO": ((N_("organisation number"), "no.orgnr"),),
    "PL": (("REGON", "pl.regon"), ("NIP", "pl.nip")),
    "PT": (("NIPC", "pt.nif"),),
    "RO": ((N_("trade register number"), "ro.onrc"), ("CUI", "ro.cui")),
    "SE": ((N_("organisation number"), "se.orgnr"),),
    "SI": ((N_("registration number"), "si.maticna"),),
}
# country -> ((name, stdnum module), ...)
REGISTRY_CHECKS: dict[str, tuple[tuple[str, ModuleType], ...]] = {
    country: tuple((name, import_module(f"stdnum.{path}")) for name, path in checks)
    for country, checks in _REGISTRY_MODULES.items()
}


# What the message adds where a number's shape is not obvious.
REGISTRY_HINTS = {
    "DE": N_("A Handelsregisternummer names the court, the register and the number, such as "
             "München HRB 12345."),
    "RO": N_("A trade register number looks like J40/372/2002."),
}


def _hint(country: str) -> str:
    """The hint of ``country``'s numbers as the end of a message (a space before it)."""
    hint = REGISTRY_HINTS.get(country)
    return f" {_(hint)}" if hint else ""


def _prepared(country: str, text: str) -> str:
    # Germans often name the court as "Amtsgericht München"; stdnum knows "München".
    if country == "DE":
        return re.sub(r"\b(Amtsgericht|Registergericht)\b", " ", text, flags=re.I)
    return text


def _fitting(number: str) -> str:
    if len(number) > MAX_REGISTRY:
        raise IdentifierError(_("%(value)s is too long to store: at most %(limit)s "
                                "characters.", value=_shown(number), limit=str(MAX_REGISTRY)))
    return number


def _names(checks, last: str = " or ") -> str:
    """"SIREN number or SIRET number"; with ``last=", "`` for a list that goes on (in the
    reader's language: "número SIREN o número SIRET")."""
    names = [_(name) for name, _module in checks]
    locale = reader_locale()
    if locale is None or len(names) < 2:
        return last.join(names)
    # The list reads as alternatives in every language ("o", "oder", "eller").
    return format_list(names, style="or", locale=locale)


def registry_number(value: object, country: str) -> str:
    """The compact registry number of a company in ``country`` (or its VAT number)."""
    text = _text(value)
    compact = _alnum(text)
    if not compact:
        raise IdentifierError(_("Give the VAT or company registry number."))
    checks = REGISTRY_CHECKS.get(country)
    if checks is None:
        if not 4 <= len(compact) <= MAX_REGISTRY:
            raise IdentifierError(_("Give the VAT or company registry number (4 to 40 "
                                    "letters and digits)."))
        return compact
    vat_error = None
    if country in _VAT_CHECKS and _looks_like_vat(compact, vat_prefixes(country)):
        try:
            return _fitting(vat_number(text, country))
        except IdentifierError as exc:
            vat_error = exc
    errors = []
    for name, module in checks:
        try:
            return _fitting(module.validate(_prepared(country, text)))
        except number_errors.ValidationError as exc:
            errors.append((name, exc))
    if vat_error is None and country in _VAT_CHECKS:
        other = _foreign_prefix(compact, country)
        if other is not None and _valid(_VAT_CHECKS[other], compact):
            raise IdentifierError(_(
                "%(value)s is %(other)s VAT number, but the company is in %(country)s: give "
                "its %(national)s %(names)s or VAT number.", value=_shown(text),
                other=_article(adjective(other)) if reader_locale() is None else _country(other),
                country=_country(country), national=_national(country),
                names=_names(checks)))
        if (number := _valid(_VAT_CHECKS[country], vat_prefixes(country)[0] + compact)):
            return _fitting(number)  # a VAT number given without its prefix
    if vat_error is not None:
        raise IdentifierError(_("%(problem)s Give the company's VAT number or its "
                                "%(names)s.%(hint)s", problem=vat_error, names=_names(checks),
                                hint=_hint(country)))
    # The check whose length fitted says most (a 14-digit French number is a SIRET).
    name, exc = next(((n, e) for n, e in errors
                      if not isinstance(e, number_errors.InvalidLength)), errors[0])
    raise IdentifierError(_("%(value)s is not a valid %(national)s %(name)s: %(reason)s. Give "
                            "the company's %(names)s or its VAT number.%(hint)s",
                            value=_shown(text), national=_national(country), name=_(name),
                            reason=_reason(exc), names=_names(checks, ", "),
                            hint=_hint(country)))


# --- bank details ------------------------------------------------------------------------

# The European Economic Area: within it a SEPA transfer needs no BIC; to the other SEPA
# countries (the UK, Switzerland, Monaco, ...) the EPC rules still ask for one.
_EEA = """AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI
SK"""
EEA = frozenset(_EEA.split())
# Territories whose banks have their own BIC country code but use the IBANs of another
# country: Jersey, Guernsey and the Isle of Man (GB), the French overseas departments and
# collectivities (FR), Åland (FI).
BIC_TERRITORIES = {"GB": {"JE", "GG", "IM"},
                   "FR": {"GF", "GP", "MQ", "RE", "YT", "PM", "BL", "MF"}, "FI": {"AX"}}

_IBAN_REASONS = {
    bank_errors.InvalidChecksumDigits: N_("its check digits do not match"),
    bank_errors.InvalidBBANChecksum: N_("the check digits of the account number within it "
                                        "do not match"),
    bank_errors.InvalidCountryCode: N_("it does not begin with the code of a country that "
                                       "uses IBANs"),
    bank_errors.InvalidStructure: N_("its letters and digits are not in the order an IBAN "
                                     "of that country has"),
    bank_errors.InvalidBankCode: N_("its bank code is not valid"),
    bank_errors.InvalidBranchCode: N_("its branch code is not valid"),
    bank_errors.InvalidAccountCode: N_("its account number is not valid"),
}


def _iban_length_reason(compact: str) -> str:
    try:
        expected = IBAN(compact, allow_invalid=True).spec.iban_length
    except (bank_errors.SchwiftyException, AttributeError, KeyError):
        return _("it has too many or too few characters")
    return _("an IBAN of %(place)s has %(expected)s characters, this one %(length)s",
             place=_place(compact[:2]), expected=str(expected), length=str(len(compact)))


def iban(value: object) -> str:
    """The compact IBAN of an account in the SEPA area (the programme pays by SEPA
    credit transfer), with its own and, where schwifty knows them, the national check
    digits verified."""
    text = _text(value)
    compact = _alnum(text)
    if not compact:
        raise IdentifierError(_("Give the IBAN of the company's account."))
    try:
        number = IBAN(compact)
        # Countries without a registered algorithm for their national check digits are
        # accepted as they are; schwifty says so with a warning, which is expected here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bank_errors.NationalChecksumNotVerified)
            number.validate(validate_bban=True)
    except bank_errors.InvalidLength as exc:
        raise IdentifierError(_("%(value)s is not a valid IBAN: %(reason)s.", value=_shown(text),
                                reason=_iban_length_reason(compact))) from exc
    except bank_errors.SchwiftyException as exc:
        raise IdentifierError(_("%(value)s is not a valid IBAN: %(reason)s.", value=_shown(text),
                                reason=_reason(exc, _IBAN_REASONS))) from exc
    if not number.in_sepa_zone:
        raise IdentifierError(_("%(value)s is an account outside the SEPA area: the programme "
                                "pays by SEPA credit transfer, so give an account in the SEPA "
                                "area.", value=_shown(text)))
    return number.compact


def bic_needed(iban_compact: str) -> bool:
    """SEPA transfers to accounts outside the EEA still need the bank's BIC."""
    return iban_compact[:2] not in EEA


def bic(value: object, iban_compact: str | None = None) -> str | None:
    """The compact BIC (8 or 11 characters); None if empty. With ``iban_compact``, the BIC
    must be of a bank in the IBAN's country."""
    text = _text(value)
    compact = _alnum(text)
    if not compact:
        return None
    try:
        code = BIC(compact, enforce_swift_compliance=True)
    except bank_errors.InvalidLength as exc:
        raise IdentifierError(_("%(value)s is not a valid BIC: a BIC has 8 or 11 letters and "
                                "digits.", value=_shown(text))) from exc
    except bank_errors.InvalidCountryCode as exc:
        raise IdentifierError(_("%(value)s is not a valid BIC: its fifth and sixth letters are "
                                "not a country code.", value=_shown(text))) from exc
    except bank_errors.SchwiftyException as exc:
        raise IdentifierError(_("%(value)s is not a valid BIC: it is 4 letters for the bank, 2 "
                                "for the country, 2 letters or digits for the place and, for a "
                                "branch, 3 more.", value=_shown(text))) from exc
    if iban_compact:
        country = iban_compact[:2]
        if code.country_code != country and code.country_code not in BIC_TERRITORIES.get(
                country, ()):
            raise IdentifierError(_(
                "%(bic)s is the BIC of a bank in %(place)s, but the IBAN is of an account in "
                "%(country)s: give the BIC of the account's bank.", bic=code.compact,
                place=_place(code.country_code), country=_place(country)))
    return code.compact


def formatted_iban(compact: str | None) -> str:
    """An IBAN in groups of four, as printed on statements ("DE89 3704 0044 ...")."""
    if not compact:
        return ""
    return IBAN(compact, allow_invalid=True).formatted
