"""The public list of operations (Regulation (EU) 2021/1060, Art. 49(3)) as CSV and JSON.

Pure: rows of ``OperationRow`` in, text out; vouchers/services/operations_list.py fills
them from the database. A row holds only what the list publishes: the beneficiary is the
company (a legal person), never a person, and no contact, tax, bank or registry detail
is carried, so neither format can leak one.

CSV: the house CSV (exports/de_minimis_csv.py): RFC 4180, CRLF, ISO dates, amounts with a
dot and two decimals, and text that a spreadsheet would run as a formula ("=", "+", "-",
"@", a tab or a carriage return first) behind an apostrophe. It is plain UTF-8 without a
byte order mark: the list is open data for machines (portals, scrapers) first, and a mark
ends up inside the first header name of tools that do not expect one.

JSON: a list of objects with stable English keys; amounts are strings ("1234.50") so that
no reader turns them into binary floats, dates ISO, a missing value null.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .de_minimis_csv import csv_text

__all__ = ["CSV_MIMETYPE", "ENCODING", "FIELDS", "OperationRow", "operations_csv",
           "operations_json", "record"]

ENCODING = "utf-8"
CSV_MIMETYPE = "text/csv"


@dataclass(frozen=True, kw_only=True)
class OperationRow:
    """One selected voucher as the list publishes it. Amounts in EUR; ``total_cost`` (the
    planned costs) is None for an application without cost lines."""

    programme: str
    partner: str
    reference: str
    beneficiary: str
    operation: str
    purpose: str
    start_date: date
    end_date: date
    total_cost: Decimal | None
    cofinancing_rate: Decimal  # a percentage: 50.00 for half
    amount: Decimal
    region: str
    nuts_code: str
    country: str
    list_date: date


# (JSON key, CSV header, attribute): one table, so the two formats keep the same columns
# in the same order, and a key once published never changes with a header's wording.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("programme", "Programme", "programme"),
    ("partner", "Partner", "partner"),
    ("reference", "Voucher reference", "reference"),
    ("beneficiary", "Beneficiary", "beneficiary"),
    ("operation_name", "Operation", "operation"),
    ("purpose", "Purpose", "purpose"),
    ("start_date", "Start date", "start_date"),
    ("end_date", "End date", "end_date"),
    ("total_cost_eur", "Planned total cost (EUR)", "total_cost"),
    ("cofinancing_rate_percent", "Co-financing rate: share of the costs the voucher pays (%)",
     "cofinancing_rate"),
    ("amount_eur", "Voucher amount: awarded less what was released (EUR)", "amount"),
    ("region", "Region", "region"),
    ("nuts_code", "NUTS code", "nuts_code"),
    ("country", "Country", "country"),
    ("list_date", "Date of the list", "list_date"),
)


def _plain(value: object) -> str | None:
    """A value as the JSON carries it: text, ISO date, two-decimal amount, or None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def record(row: OperationRow) -> dict[str, str | None]:
    """The row as a JSON object (also what the HTML page shows)."""
    return {key: _plain(getattr(row, attr)) for key, _, attr in FIELDS}


def _csv_field(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | date):
        # Written by the code, never by a user: numbers and dates must stay readable.
        return _plain(value) or ""
    text = csv_text(value)
    # csv_text has already turned a leading carriage return into a line feed (as every
    # reader would); that line feed gets the apostrophe too, so "\r=..." stays inert.
    return "'" + text if text.startswith("\n") else text


def operations_csv(rows: Iterable[OperationRow]) -> str:
    """The list as CSV text, a header line first."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header for _, header, _ in FIELDS)
    for row in rows:
        writer.writerow(_csv_field(getattr(row, attr)) for _, _, attr in FIELDS)
    return buffer.getvalue()


def operations_json(rows: Iterable[OperationRow]) -> str:
    """The list as a JSON array of objects."""
    return json.dumps([record(row) for row in rows], ensure_ascii=False, indent=1)
