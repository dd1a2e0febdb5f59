"""InforEuro exchange rates: which rate applies, and converting an amount to EUR.

A rate is the number of units of a currency per 1 EUR for one month, as the Commission
publishes it. An amount converts by dividing by the rate and rounding once, half up, to
the cent, per line: a total is the sum of rounded lines, so a workbook's SUM and the
database agree to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import ExchangeRate
from ..models.base import CENT
from .errors import DomainError

EUR = "EUR"
ONE = Decimal("1")


class MissingRate(DomainError):
    """No InforEuro rate is imported for the currency and month an amount needs."""


@dataclass(frozen=True)
class Rate:
    currency: str
    year: int
    month: int
    units_per_eur: Decimal

    @property
    def month_label(self) -> str:
        return f"{date(self.year, self.month, 1):%B %Y}"


def rate_of(currency: str, year: int, month: int) -> Rate:
    """The rate of ``currency`` for the month; EUR is 1. Refuses with the month named."""
    if currency == EUR:
        return Rate(EUR, year, month, ONE)
    value = db.session.scalar(select(ExchangeRate.units_per_eur).where(
        ExchangeRate.currency == currency, ExchangeRate.year == year,
        ExchangeRate.month == month))
    if value is None:
        from .wording import month as month_of  # wording reads formatting, which reads this

        raise MissingRate(_(
            "No InforEuro rate for %(currency)s in %(month)s: import it with flask --app "
            "vouchers import-rates FILE --year %(year)s --month %(number)s.",
            currency=currency, month=month_of(date(year, month, 1)), year=year, number=month))
    return Rate(currency, year, month, value)


def rate_on(currency: str, day: date) -> Rate:
    return rate_of(currency, day.year, day.month)


def to_eur(amount: Decimal, units_per_eur: Decimal) -> Decimal:
    """``amount`` of a currency in EUR at the rate, rounded once to the cent."""
    return (Decimal(amount) / Decimal(units_per_eur)).quantize(CENT, rounding=ROUND_HALF_UP)


def coin_in_eur(units_per_eur: Decimal) -> Decimal:
    """The EUR value of the currency's smallest step (0.01), unrounded: a transfer in the
    currency can come no closer than this to an amount due in EUR."""
    return CENT / Decimal(units_per_eur)


def from_eur(amount: Decimal, units_per_eur: Decimal) -> Decimal:
    """``amount`` EUR in the currency at the rate, rounded to the cent (for hints only:
    what is recorded converts the other way, with to_eur)."""
    return (Decimal(amount) * Decimal(units_per_eur)).quantize(CENT, rounding=ROUND_HALF_UP)


def latest_rate(currency: str) -> Rate | None:
    """The newest imported rate of ``currency`` (EUR: None, it needs none)."""
    if currency == EUR:
        return None
    row = db.session.scalars(select(ExchangeRate).where(ExchangeRate.currency == currency)
                             .order_by(ExchangeRate.year.desc(), ExchangeRate.month.desc())
                             .limit(1)).first()
    return None if row is None else Rate(currency, row.year, row.month, row.units_per_eur)


def format_rate(units_per_eur: Decimal | None) -> str:
    """A rate as the Commission publishes it, without the column's trailing zeros."""
    if units_per_eur is None:
        return "—"
    return format(Decimal(units_per_eur).normalize(), "f")
