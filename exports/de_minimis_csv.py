"""The de minimis register as CSV, for a national or EU central register's import.

Pure: rows of ``exports.rows.DeMinimisRow`` in, text out. RFC 4180 (comma separated, CRLF
line ends, fields quoted where they hold a comma, a quote or a line break); dates ISO
(YYYY-MM-DD); amounts with a dot and two decimals, no thousands separator, so that a
machine reads them the same in every locale.

Formulas: a spreadsheet opening a CSV evaluates a field that starts with "=", "+", "-" or
"@" (and some take a leading tab or carriage return as the start of one). A CSV cell has
no type that could pin it as text, as the workbook does (exports/cells.py), so text that
starts with one of those gets a leading apostrophe, the usual neutraliser (OWASP, "CSV
injection"): Excel and LibreOffice show the text after it. Only text fields are touched;
amounts are written by the code, never start with a letter or sign the user chose, and
must stay numbers.

Encoding: ``encode`` gives UTF-8 with a byte order mark. Without one, Excel opens a
double-clicked CSV in the machine's legacy code page and turns "Liège" or "Eurasanté"
into mojibake; with it, Excel reads UTF-8, and Python ("utf-8-sig"), pandas, LibreOffice
and database import tools all skip the mark.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from .cells import clean_text
from .rows import DeMinimisRow

__all__ = ["ENCODING", "HEADER", "MIMETYPE", "csv_text", "encode", "register_csv"]

ENCODING = "utf-8-sig"  # UTF-8 with a byte order mark (see the module's text)
MIMETYPE = "text/csv"

HEADER = (
    "Undertaking", "Country", "VAT number", "Registry number", "Granting authority",
    "Date granted", "Amount granted", "Aid after close-out", "Currency", "Regulation",
    "Voucher reference",
)
# What a spreadsheet may take as the start of a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: object) -> str:
    """A text field: cleaned like a workbook cell, and never read as a formula."""
    if value is None:
        return ""
    text = clean_text(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


def register_csv(rows: Iterable[DeMinimisRow], *, currency: str = "EUR") -> str:
    """The register's rows as CSV text, a header line first."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for r in rows:
        writer.writerow((
            csv_text(r.undertaking), csv_text(r.country), csv_text(r.vat_number),
            csv_text(r.registry_number), csv_text(r.granting_authority), _date(r.award_date),
            _amount(r.aid_amount), _amount(r.aid_after_close_out), csv_text(currency),
            csv_text(r.regulation), csv_text(r.voucher_reference),
        ))
    return buffer.getvalue()


def encode(text: str) -> bytes:
    """The CSV text as the bytes of the download: UTF-8 with a byte order mark."""
    return text.encode(ENCODING)
