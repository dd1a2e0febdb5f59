"""The one place where user text becomes a spreadsheet cell.

openpyxl decides a cell's type from the Python value: a string starting with "=" becomes a
formula and a string equal to an error code ("#N/A", ...) becomes an error cell. Names,
titles and references typed by applicants must never execute in the funder's spreadsheet,
so every text cell of an export is built here and is pinned to the string type.

Text that starts with "+", "-", "@" or a tab is already stored as an inline *string* cell
(``t="inlineStr"``), which Excel and LibreOffice never evaluate; it is kept unchanged
rather than prefixed with an apostrophe, so that the funder sees exactly what was typed.
"""

from __future__ import annotations

import re

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES

__all__ = [
    "MAX_CELL_TEXT",
    "clean_text",
    "set_text",
    "string_cell",
    "text_value",
]

# Excel refuses longer cell text; openpyxl would truncate silently, we do it knowingly.
MAX_CELL_TEXT = 32_767

# Characters that XML 1.0 cannot carry at all. openpyxl's ILLEGAL_CHARACTERS_RE covers the
# C0 controls only and raises on them; lone surrogates and U+FFFE/U+FFFF slip past it and
# produce a file that no reader can open, so they are cut as well.
_UNWRITABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_ERROR_CODES = frozenset(ERROR_CODES)


def clean_text(value: object, max_length: int | None = None) -> str:
    """Return ``value`` as text that survives a round trip through an xlsx file.

    Control characters the format cannot store are removed. A carriage return is turned
    into a line feed: XML parsers normalise CR and CRLF to LF when the file is read, so
    writing "\\r" would silently come back as "\\n" anyway; doing it here keeps what we
    write identical to what every reader gets. ``max_length`` cuts the text for fields
    with a fixed width in the funder's systems (Jems: 30 or 255 characters).
    """
    text = value if isinstance(value, str) else str(value)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _UNWRITABLE_RE.sub("", text)
    limit = MAX_CELL_TEXT if max_length is None else min(max_length, MAX_CELL_TEXT)
    return text[:limit]


def _needs_pinning(text: str) -> bool:
    # Exactly the two cases in which openpyxl would not store a str as a string.
    return (len(text) > 1 and text[0] == "=") or text in _ERROR_CODES


def string_cell(ws, value: object, max_length: int | None = None) -> Cell:
    """A write-only cell holding ``value`` as a string, whatever it starts with.

    Use it when the cell also needs a style (headers); for plain data cells
    :func:`text_value` is cheaper.
    """
    cell = WriteOnlyCell(ws)
    set_text(cell, value, max_length)
    return cell


def text_value(ws, value: object, max_length: int | None = None) -> str | Cell | None:
    """What to hand to ``ws.append`` for a text column of a write-only sheet.

    Most text is returned as a plain ``str``: openpyxl stores it as a string by itself and
    reuses one cell object for it, which matters at 100,000 rows. Only text that openpyxl
    would turn into a formula or an error gets its own cell pinned to the string type.
    ``None`` and text that is empty once cleaned give ``None`` (an empty cell).
    """
    if value is None:
        return None
    text = clean_text(value, max_length)
    if not text:
        # openpyxl writes "" as an empty element that reads back as no value at all;
        # saying so explicitly keeps the writer and every reader in agreement.
        return None
    if _needs_pinning(text):
        return string_cell(ws, text)
    return text


def set_text(cell: Cell, value: object, max_length: int | None = None) -> Cell:
    """Put ``value`` into an existing cell (write-only or not) as a string."""
    if value is None:
        cell.value = None
        return cell
    # Assigning through .value would infer the type; the string type is set afterwards so
    # that a leading "=" cannot win.
    cell.value = clean_text(value, max_length)
    cell.data_type = "s"
    return cell
