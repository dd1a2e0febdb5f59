"""Importing the Commission's monthly InforEuro rates (services/rates.py reads them).

The file is the JSON the Commission publishes: a list of objects with ``isoA3Code``,
``currency``, ``country`` and ``value`` (units of the currency per 1 EUR, a number or a
string). The whole file is checked before anything is written, so a bad row refuses the
file and leaves the month as it was. Re-importing a month rewrites only the rates that
changed; what already used a rate (a payment, a final report, a partner report's line)
holds its own copy, so a corrected file never changes anything recorded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from ..extensions import db
from ..models import ExchangeRate
from ..models.base import utcnow
from .errors import InvalidInput
from .transaction import atomic

CODE = re.compile(r"[A-Z]{3}")
# InforEuro started in 1994 (as the ecu's rates); a year beyond the next is a typo.
FIRST_YEAR, LAST_YEAR_AHEAD = 1994, 1
# exchange_rates.units_per_eur is Numeric(18, 6): twelve digits before the point.
MAX_RATE = Decimal("999999999999.999999")
NAME_LENGTH = 80


@dataclass(frozen=True)
class ParsedRate:
    currency: str
    units_per_eur: Decimal
    currency_name: str
    country: str


@dataclass(frozen=True)
class ImportResult:
    year: int
    month: int
    added: int
    changed: int
    unchanged: int

    @property
    def summary(self) -> str:
        return (f"{self.year}-{self.month:02d}: {self.added} added, {self.changed} changed, "
                f"{self.unchanged} unchanged")


def check_month(year, month) -> tuple[int, int]:
    try:
        year, month = int(year), int(month)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("Give the year and month as numbers (--year 2026 --month 3).") from exc
    if not 1 <= month <= 12:
        raise InvalidInput(f"The month must be 1 to 12, not {month}.")
    last = utcnow().year + LAST_YEAR_AHEAD
    if not FIRST_YEAR <= year <= last:
        raise InvalidInput(f"The year must be between {FIRST_YEAR} and {last}, not {year}.")
    return year, month


def _row_name(position: int, row) -> str:
    code = row.get("isoA3Code") if isinstance(row, dict) else None
    return f"row {position}" + (f" ({code})" if isinstance(code, str) and code else "")


def _rate(value, where: str) -> Decimal:
    # A JSON number arrives as int or float: str() gives its shortest spelling, so
    # 0.8563 stays 0.8563 (no float arithmetic touches it). A bool is not a number here.
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidInput(f"The InforEuro file's {where} has no rate (value): "
                           f"expected a number, got {json.dumps(value)}.")
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidInput(f"The InforEuro file's {where} has a rate that is not a number: "
                           f"{value!r}.") from exc
    if not rate.is_finite() or rate <= 0:
        raise InvalidInput(f"The InforEuro file's {where} has a rate that is not positive: "
                           f"{value!r}.")
    if rate > MAX_RATE or rate != rate.quantize(Decimal("0.000001")):
        raise InvalidInput(f"The InforEuro file's {where} has a rate beyond twelve digits "
                           f"and six decimals: {value!r}.")
    return rate


def _text(row: dict, key: str) -> str:
    value = row.get(key)
    return value.strip()[:NAME_LENGTH] if isinstance(value, str) else ""


def parse_rates(data) -> list[ParsedRate]:
    """The file's rates, checked; refuses the whole file naming the first bad row."""
    if not isinstance(data, list):
        raise InvalidInput("The InforEuro file must be a JSON list of rates "
                           "(objects with isoA3Code and value).")
    if not data:
        raise InvalidInput("The InforEuro file holds no rates.")
    rates: dict[str, ParsedRate] = {}
    for position, row in enumerate(data, 1):
        where = _row_name(position, row)
        if not isinstance(row, dict):
            raise InvalidInput(f"The InforEuro file's {where} is not an object.")
        code = row.get("isoA3Code")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise InvalidInput(f"The InforEuro file's {where} has no currency code of three "
                               f"capital letters (isoA3Code): {json.dumps(code)}.")
        if code in rates:
            raise InvalidInput(f"The InforEuro file's {where} repeats the currency {code}.")
        rates[code] = ParsedRate(code, _rate(row.get("value"), where),
                                 _text(row, "currency"), _text(row, "country"))
    return list(rates.values())


def read_file(text: str) -> list[ParsedRate]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"The InforEuro file is not JSON ({exc}).") from exc
    return parse_rates(data)


def import_rates(rates: list[ParsedRate], year, month) -> ImportResult:
    """Store the month's rates: new ones added, changed ones rewritten, others kept."""
    year, month = check_month(year, month)
    added = changed = unchanged = 0
    with atomic():
        stored = {row.currency: row for row in db.session.scalars(
            select(ExchangeRate).where(ExchangeRate.year == year,
                                       ExchangeRate.month == month))}
        now = utcnow()
        for rate in rates:
            row = stored.get(rate.currency)
            if row is None:
                db.session.add(ExchangeRate(
                    year=year, month=month, currency=rate.currency,
                    units_per_eur=rate.units_per_eur, currency_name=rate.currency_name,
                    country=rate.country, imported_at=now))
                added += 1
            elif row.units_per_eur != rate.units_per_eur:
                row.units_per_eur, row.imported_at = rate.units_per_eur, now
                row.currency_name = rate.currency_name or row.currency_name
                row.country = rate.country or row.country
                changed += 1
            else:
                unchanged += 1
    return ImportResult(year, month, added, changed, unchanged)


def months() -> list[tuple[int, int, list[ExchangeRate]]]:
    """The imported months, newest first, each with its rates by currency code."""
    by_month: dict[tuple[int, int], list[ExchangeRate]] = {}
    for row in db.session.scalars(select(ExchangeRate).order_by(
            ExchangeRate.year.desc(), ExchangeRate.month.desc(), ExchangeRate.currency)):
        by_month.setdefault((row.year, row.month), []).append(row)
    return [(year, month, rows) for (year, month), rows in by_month.items()]
