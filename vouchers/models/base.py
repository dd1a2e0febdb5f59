"""Column types shared by the models."""

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from sqlalchemy import DateTime, Numeric, String, TypeDecorator
from sqlalchemy.orm import mapped_column

# The largest id a PostgreSQL integer column holds; a larger number names no row.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on SQLite (which keeps naive text) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store times in UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Money(TypeDecorator):
    """NUMERIC(12, 2) everywhere; held as whole cents inside SQLite.

    SQLite keeps NUMERIC values as binary floats, so sums and comparisons made in SQL
    (committed + amount <= envelope) would drift by fractions of a cent and a CHECK
    could refuse an award that fits exactly. Whole cents compare exactly.
    """

    impl = Numeric(12, 2)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        return int((Decimal(value) * 100).to_integral_value(rounding=ROUND_HALF_UP))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            # An aggregate such as AVG can return fractions of a cent.
            return (Decimal(str(value)) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return Decimal(value).quantize(CENT)


CENT = Decimal("0.01")
money = Annotated[Decimal, mapped_column(Money())]
rate = Annotated[Decimal, mapped_column(Numeric(5, 4))]
str200 = Annotated[str, mapped_column(String(200))]
timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
