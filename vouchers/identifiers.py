"""Company identifiers and bank details, checked with the libraries their users trust.

python-stdnum knows each country's VAT and registry numbers (their formats and check
digits), schwifty the IBAN and BIC rules. These are pure checks (no Flask, no database):
each returns the compact form to store, or raises IdentifierError with a sentence for the
person who typed the value, naming what is wrong ("the check digits do not match").
"""

from __future__ import annotations

import re
import warnings
from importlib import import_module
from types import ModuleType

from schwifty import BIC, IBAN
from schwifty import exceptions as bank_errors
from stdnum import exceptions as number_errors
from stdnum.ch import vat as ch_vat
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat
from stdnum.no import mva as no_mva

from .countries import EUROPEAN_COUNTRIES

# The columns (vouchers/models/people.py) and the SEPA limit of a creditor's name.
MAX_REGISTRY, MAX_VAT, MAX_ACCOUNT_HOLDER = 40, 20, 70


class IdentifierError(ValueError):
    """A value that is not a valid identifier; str() is the message for its author."""


ADJECTIVES = {
    "AT": "Austrian", "BE": "Belgian", "BG": "Bulgarian", "CH": "Swiss", "CY": "Cypriot",
    "CZ": "Czech", "DE": "German", "DK": "Danish", "EE": "Estonian", "ES": "Spanish",
    "FI": "Finnish", "FR": "French", "GR": "Greek", "HR": "Croatian", "HU": "Hungarian",
    "IE": "Irish", "IS": "Icelandic", "IT": "Italian", "LI": "Liechtenstein",
    "LT": "Lithuanian", "LU": "Luxembourg", "LV": "Latvian", "MT": "Maltese", "NL": "Dutch",
    "NO": "Norwegian", "PL": "Polish", "PT": "Portuguese", "RO": "Romanian", "SE": "Swedish",
    "SI": "Slovenian", "SK": "Slovak", "UK": "British",
}
# Names that read after "in": "in the Netherlands", "in Germany".
_WITH_THE = {"NL", "UK", "CZ"}

# What each stdnum exception means, as the end of "... is not a valid X: ...".
REASONS = {
    number_errors.InvalidChecksum: "the check digits do not match",
    number_errors.InvalidLength: "it has too many or too few characters",
    number_errors.InvalidFormat: "its letters and digits are not in the order such a "
                                 "number has",
    number_errors.InvalidComponent: "a part of it (such as a country, court or date code) "
                                    "does not exist",
}


def adjective(country: str) -> str:
    return ADJECTIVES.get(country, country)


def country_name(country: str) -> str:
    name = EUROPEAN_COUNTRIES.get(country, country)
    return f"the {name}" if country in _WITH_THE else name


def _place(code: str) -> str:
    """A country named by an IBAN's or BIC's code (GB is the programme's UK)."""
    code = "UK" if code == "GB" else code
    return country_name(code) if code in EUROPEAN_COUNTRIES else code


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "AEIOU" else f"a {word}"


def _reason(exc: Exception, reasons=REASONS) -> str:
    return next((r for kind, r in reasons.items() if isinstance(exc, kind)), "it is not one")


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def _shown(text: str) -> str:
    """The value as its author typed it, shortened for a message."""
    return text if len(text) <= 40 else f"{text[:39]}…"


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
            raise IdentifierError("Give the VAT number as 4 to 20 letters and digits.")
        return compact
    prefixes = vat_prefixes(country)
    adj = adjective(country)
    if not compact.startswith(prefixes):
        other = _foreign_prefix(compact, country)
        # A French key may begin with letters that are another country's prefix: a number
        # valid with the company's own prefix in front is the company's.
        if other is not None and _valid(check, prefixes[0] + compact) is None:
            raise IdentifierError(
                f"{_shown(text)} begins with the code of {adjective(other)} VAT numbers, but "
                f"the company is in {country_name(country)}: give its {adj} VAT number, "
                f"which begins with {prefixes[0]}.")
        compact = prefixes[0] + compact
    try:
        return check(compact)
    except number_errors.ValidationError as exc:
        raise IdentifierError(f"{_shown(text)} is not a valid {adj} VAT number: "
                              f"{_reason(exc)}.") from exc


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
    "BE": (("enterprise number", "be.vat"),),
    "BG": (("UIC (EIK)", "bg.vat"),),
    "CH": (("UID", "ch.uid"),),
    "CZ": (("IČO", "cz.dic"),),
    "DE": (("Handelsregisternummer", "de.handelsregisternummer"),),
    "DK": (("CVR number", "dk.cvr"),),
    "EE": (("registry code", "ee.registrikood"),),
    "ES": (("NIF", "es.nif"),),
    "FI": (("business ID (Y-tunnus)", "fi.ytunnus"),),
    "FR": (("SIREN number", "fr.siren"), ("SIRET number", "fr.siret")),
    "HR": (("OIB", "hr.oib"),),
    "IS": (("kennitala", "is_.kennitala"),),
    "IT": (("partita IVA", "it.iva"),),
    "LV": (("registration number", "lv.pvn"),),
    "NO": (("organisation number", "no.orgnr"),),
    "PL": (("REGON", "pl.regon"), ("NIP", "pl.nip")),
    "PT": (("NIPC", "pt.nif"),),
    "RO": (("trade register number", "ro.onrc"), ("CUI", "ro.cui")),
    "SE": (("organisation number", "se.orgnr"),),
    "SI": (("registration number", "si.maticna"),),
}
# country -> ((name, stdnum module), ...)
REGISTRY_CHECKS: dict[str, tuple[tuple[str, ModuleType], ...]] = {
    country: tuple((name, import_module(f"stdnum.{path}")) for name, path in checks)
    for country, checks in _REGISTRY_MODULES.items()
}


# What the message adds where a number's shape is not obvious.
REGISTRY_HINTS = {
    "DE": " A Handelsregisternummer names the court, the register and the number, such as "
          "München HRB 12345.",
    "RO": " A trade register number looks like J40/372/2002.",
}


def _prepared(country: str, text: str) -> str:
    # Germans often name the court as "Amtsgericht München"; stdnum knows "München".
    if country == "DE":
        return re.sub(r"\b(Amtsgericht|Registergericht)\b", " ", text, flags=re.I)
    return text


def _fitting(number: str) -> str:
    if len(number) > MAX_REGISTRY:
        raise IdentifierError(f"{_shown(number)} is too long to store: at most "
                              f"{MAX_REGISTRY} characters.")
    return number


def _names(checks, last: str = " or ") -> str:
    """"SIREN number or SIRET number"; with ``last=", "`` for a list that goes on."""
    return last.join(name for name, _ in checks)


def registry_number(value: object, country: str) -> str:
    """The compact registry number of a company in ``country`` (or its VAT number)."""
    text = _text(value)
    compact = _alnum(text)
    if not compact:
        raise IdentifierError("Give the VAT or company registry number.")
    checks = REGISTRY_CHECKS.get(country)
    if checks is None:
        if not 4 <= len(compact) <= MAX_REGISTRY:
            raise IdentifierError("Give the VAT or company registry number (4 to 40 letters "
                                  "and digits).")
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
            raise IdentifierError(
                f"{_shown(text)} is {_article(adjective(other))} VAT number, but the company "
                f"is in {country_name(country)}: give its {adjective(country)} "
                f"{_names(checks)} or VAT number.")
        if (number := _valid(_VAT_CHECKS[country], vat_prefixes(country)[0] + compact)):
            return _fitting(number)  # a VAT number given without its prefix
    if vat_error is not None:
        raise IdentifierError(f"{vat_error} Give the company's VAT number or its "
                              f"{_names(checks)}.{REGISTRY_HINTS.get(country, '')}")
    # The check whose length fitted says most (a 14-digit French number is a SIRET).
    name, exc = next(((n, e) for n, e in errors
                      if not isinstance(e, number_errors.InvalidLength)), errors[0])
    raise IdentifierError(f"{_shown(text)} is not a valid {adjective(country)} {name}: "
                          f"{_reason(exc)}. Give the company's {_names(checks, ', ')} or its "
                          f"VAT number.{REGISTRY_HINTS.get(country, '')}")


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
    bank_errors.InvalidChecksumDigits: "its check digits do not match",
    bank_errors.InvalidBBANChecksum: "the check digits of the account number within it do "
                                     "not match",
    bank_errors.InvalidCountryCode: "it does not begin with the code of a country that "
                                    "uses IBANs",
    bank_errors.InvalidStructure: "its letters and digits are not in the order an IBAN of "
                                  "that country has",
    bank_errors.InvalidBankCode: "its bank code is not valid",
    bank_errors.InvalidBranchCode: "its branch code is not valid",
    bank_errors.InvalidAccountCode: "its account number is not valid",
}


def _iban_length_reason(compact: str) -> str:
    try:
        expected = IBAN(compact, allow_invalid=True).spec.iban_length
    except (bank_errors.SchwiftyException, AttributeError, KeyError):
        return "it has too many or too few characters"
    return f"an IBAN of {_place(compact[:2])} has {expected} characters, this one {len(compact)}"


def iban(value: object) -> str:
    """The compact IBAN of an account in the SEPA area (the programme pays by SEPA
    credit transfer), with its own and, where schwifty knows them, the national check
    digits verified."""
    text = _text(value)
    compact = _alnum(text)
    if not compact:
        raise IdentifierError("Give the IBAN of the company's account.")
    try:
        number = IBAN(compact)
        # Countries without a registered algorithm for their national check digits are
        # accepted as they are; schwifty says so with a warning, which is expected here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", bank_errors.NationalChecksumNotVerified)
            number.validate(validate_bban=True)
    except bank_errors.InvalidLength as exc:
        raise IdentifierError(f"{_shown(text)} is not a valid IBAN: "
                              f"{_iban_length_reason(compact)}.") from exc
    except bank_errors.SchwiftyException as exc:
        raise IdentifierError(f"{_shown(text)} is not a valid IBAN: "
                              f"{_reason(exc, _IBAN_REASONS)}.") from exc
    if not number.in_sepa_zone:
        raise IdentifierError(f"{_shown(text)} is an account outside the SEPA area: the "
                              "programme pays by SEPA credit transfer, so give an account "
                              "in the SEPA area.")
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
        raise IdentifierError(f"{_shown(text)} is not a valid BIC: a BIC has 8 or 11 "
                              "letters and digits.") from exc
    except bank_errors.InvalidCountryCode as exc:
        raise IdentifierError(f"{_shown(text)} is not a valid BIC: its fifth and sixth "
                              "letters are not a country code.") from exc
    except bank_errors.SchwiftyException as exc:
        raise IdentifierError(f"{_shown(text)} is not a valid BIC: it is 4 letters for the "
                              "bank, 2 for the country, 2 letters or digits for the place "
                              "and, for a branch, 3 more.") from exc
    if iban_compact:
        country = iban_compact[:2]
        if code.country_code != country and code.country_code not in BIC_TERRITORIES.get(
                country, ()):
            raise IdentifierError(
                f"{code.compact} is the BIC of a bank in {_place(code.country_code)}, but the "
                f"IBAN is of an account in {_place(country)}: give the BIC of the account's "
                "bank.")
    return code.compact


def formatted_iban(compact: str | None) -> str:
    """An IBAN in groups of four, as printed on statements ("DE89 3704 0044 ...")."""
    if not compact:
        return ""
    return IBAN(compact, allow_invalid=True).formatted
