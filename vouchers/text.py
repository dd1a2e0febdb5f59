"""Text a person typed, checked in one place: what a name or a title may hold.

Control characters and broken UTF-8 never reach a service from the web (input_checks
refuses them for every field); these checks are for the services themselves, so the CLI
and a future API meet the same rules.
"""

from __future__ import annotations

import unicodedata

from .input_checks import text_problem
from .services.errors import InvalidInput

# A title is one line of at most this many characters (the columns are String(200)).
MAX_TITLE = 200

# Invisible characters (zero-width spaces and joiners, the soft hyphen, the byte-order
# mark) and bidirectional overrides, which can make a name read differently from what
# it is ("Trojan Source"): refused in names and titles.
_FORMAT = "Cf"


def line_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name or a title, or None."""
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"contains a control character (U+{ord(ch):04X})"
        if category == _FORMAT:
            name = unicodedata.name(ch, "an invisible character").lower()
            return f"contains an invisible or direction-changing character ({name}, " \
                   f"U+{ord(ch):04X})"
        if ch in "\u2028\u2029":
            return "contains a line break"
    return None


def clean_title(value: object) -> str:
    """An application's title: the one rule the draft's creation and its edits share."""
    return clean_line(value, "the title", MAX_TITLE)


def clean_line(value: object, label: str, max_length: int, *, required: bool = True) -> str:
    """A one-line name or title: stripped, visible characters only, within ``max_length``.

    Raises InvalidInput naming ``label``.
    """
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InvalidInput(f"Give {label}.")
    if len(text) > max_length:
        raise InvalidInput(f"{label[0].upper()}{label[1:]} is too long: at most "
                           f"{max_length:,} characters.")
    problem = line_problem(text)
    if problem:
        raise InvalidInput(f"{label[0].upper()}{label[1:]} {problem}; type it again "
                           "without it.")
    return text


def clean_reason(value: object, missing: str, max_length: int) -> str:
    """A reason or comment of several lines, as kept in a history: given (else
    InvalidInput(``missing``)), within ``max_length``, no control or invisible characters."""
    text = str(value or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(missing)
    if len(text) > max_length:
        raise InvalidInput(f"Keep the reason to at most {max_length:,} characters.")
    problem = text_problem(text)
    if problem:
        raise InvalidInput(f"The reason {problem}; type it again without it.")
    return text


def listing(items: list[str], last: str = "and") -> str:
    """"a, b and c": items in a sentence."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"
