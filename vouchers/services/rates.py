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
        raise MissingRate(
            f"No InforEuro rate for {currency} in {date(year, month, 1):%B %Y}: import it "
            f"with flask --app vouchers import-rates FILE --year {year} --month {month}.")
    return Rate(currency, year, month, value)


def rate_on(currency: str, day: date) -> Rate:
    return rate_of(currency, day.year, day.month)


def to_eur(amount: Decimal, units_per_eur: Decimal) -> Decimal:
    """``amount`` of a currency in EUR at the rate, rounded once to the cent."""
    return (Decimal(amount) / Decimal(units_per_eur)).quantize(CENT, rounding=ROUND_HALF_UP)
