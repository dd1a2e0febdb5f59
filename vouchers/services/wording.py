"""Values inside the services' messages, written the reader's way.

A refusal is said in the language of the request that caused it (vouchers/i18n.py; a job or
a command has none and speaks English). English keeps the formats it always had ("€1,250.00",
"03 Dec 2026", "10,000"); the other languages get theirs ("1.250,00 €", "3 de des. del 2026").
``N_`` marks a message kept in a constant; the place that shows it translates it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_skeleton
from babel.lists import format_list
from babel.numbers import format_decimal
from flask_babel import gettext

from .. import formatting
from ..i18n import (
    N_,  # noqa: F401  (the services mark their constants with it)
    reader_locale,
)
from ..text import listing


def eur(amount: Decimal | None) -> str:
    return formatting.eur(amount)


def money(amount: Decimal | None, currency: str = "EUR") -> str:
    return formatting.money(amount, currency)


def day(value: date | None) -> str:
    """"03 Dec 2026"."""
    return formatting.day(value)


def long_day(value: date) -> str:
    """"03 December 2026"."""
    locale = reader_locale()
    return value.strftime("%d %B %Y") if locale is None else format_skeleton(
        "yMMMMd", value, locale=locale)


def month(value: date) -> str:
    """"March 2026"."""
    locale = reader_locale()
    return value.strftime("%B %Y") if locale is None else format_skeleton(
        "yMMMM", value, locale=locale)


def number(value: int) -> str:
    """"10,000"."""
    locale = reader_locale()
    return f"{value:,}" if locale is None else format_decimal(value, locale=locale)


def either(items: list[str]) -> str:
    """"a or b or c" (English as before); "a, b o c" in Catalan."""
    locale = reader_locale()
    return " or ".join(items) if locale is None else format_list(items, style="or",
                                                                  locale=locale)


def short_day(value: date) -> str:
    """"3 Dec 2026" (no leading zero)."""
    locale = reader_locale()
    return f"{value.day} {value:%b %Y}" if locale is None else format_skeleton(
        "yMMMd", value, locale=locale)


def both(items: list[str]) -> str:
    """"a, b and c" (text.listing's English); "a, b i c" in Catalan."""
    locale = reader_locale()
    return listing(items) if locale is None else format_list(items, locale=locale)


def iso_day(value: date) -> str:
    """"2031-12-31" in English (as before), the reader's date otherwise."""
    locale = reader_locale()
    return value.isoformat() if locale is None else format_skeleton("yMMMd", value,
                                                                     locale=locale)


def in_sentence(label: str) -> str:
    """A label (a state, a voucher type) inside a sentence: translated, and in lower case
    where the language writes it so (German keeps its nouns' capitals)."""
    text = gettext(label)
    locale = reader_locale()
    return text if locale is not None and locale.language == "de" else text.lower()


def full_day(value: date) -> str:
    """"3 December 2026" (no leading zero)."""
    locale = reader_locale()
    return f"{value.day} {value:%B %Y}" if locale is None else format_skeleton(
        "yMMMMd", value, locale=locale)
