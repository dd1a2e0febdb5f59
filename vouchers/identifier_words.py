"""How the identifier checks word their messages: the error, countries named the reader's
way, the reasons a number is refused (vouchers/identifiers.py checks the numbers)."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from stdnum import exceptions as number_errors

from .countries import EUROPEAN_COUNTRIES, name_for_reader
from .i18n import N_, reader_locale


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
    number_errors.InvalidChecksum: N_("the check digits do not match"),
    number_errors.InvalidLength: N_("it has too many or too few characters"),
    number_errors.InvalidFormat: N_("its letters and digits are not in the order such a "
                                    "number has"),
    number_errors.InvalidComponent: N_("a part of it (such as a country, court or date "
                                       "code) does not exist"),
}


def _country(country: str) -> str:
    """``country`` as a message names it: "the Netherlands", "Nederland" in Dutch."""
    return country_name(country) if reader_locale() is None else name_for_reader(country)


def _national(country: str) -> str:
    """What names a country's numbers: its adjective in English ("Austrian"), its name in
    the other languages (the catalogues' sentences are written for a name)."""
    return adjective(country) if reader_locale() is None else _country(country)


def adjective(country: str) -> str:
    return ADJECTIVES.get(country, country)


def country_name(country: str) -> str:
    name = EUROPEAN_COUNTRIES.get(country, country)
    return f"the {name}" if country in _WITH_THE else name


def _place(code: str) -> str:
    """A country named by an IBAN's or BIC's code (GB is the programme's UK)."""
    code = "UK" if code == "GB" else code
    return _country(code) if code in EUROPEAN_COUNTRIES else code


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "AEIOU" else f"a {word}"


def _reason(exc: Exception, reasons=REASONS) -> str:
    return _(next((r for kind, r in reasons.items() if isinstance(exc, kind)),
                  N_("it is not one")))


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def _shown(text: str) -> str:
    """The value as its author typed it, shortened for a message."""
    return text if len(text) <= 40 else f"{text[:39]}…"
