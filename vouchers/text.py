"""Text a person typed, checked in one place: what a name or a title may hold.

Control characters and broken UTF-8 never reach a service from the web (input_checks
refuses them for every field); these checks are for the services themselves, so the CLI
and a future API meet the same rules.
"""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

from .i18n import N_
from .input_checks import text_problem
from .services.errors import InvalidInput

# A title is one line of at most this many characters (the columns are String(200)).
MAX_TITLE = 200

# Invisible characters (zero-width spaces and joiners, the soft hyphen, the byte-order
# mark) and bidirectional overrides, which can make a name read differently from what
# it is ("Trojan Source"): refused in names and titles.
_FORMAT = "Cf"

# Unicode's names are English: the ones people paste by accident, in the reader's language
# (any other is "an invisible character", with its code).
_FORMAT_NAMES = {
    "\u00ad": N_("a soft hyphen"),
    "\u200b": N_("a zero-width space"),
    "\u200c": N_("a zero-width non-joiner"),
    "\u200d": N_("a zero-width joiner"),
    "\u200e": N_("a left-to-right mark"),
    "\u200f": N_("a right-to-left mark"),
    "\u2060": N_("a word joiner"),
    "\ufeff": N_("a byte-order mark"),
    **dict.fromkeys("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
                    N_("a text-direction control")),
}


def line_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name or a title, or None (in the reader's language)."""
    for ch in text:
        category, code = unicodedata.category(ch), f"{ord(ch):04X}"
        if category == "Cc":
            return _("contains a control character (U+%(code)s)", code=code)
        if category == _FORMAT:
            name = _(_FORMAT_NAMES.get(ch, N_("an invisible character")))
            return _("contains an invisible or direction-changing character (%(name)s, "
                     "U+%(code)s)", name=name, code=code)
        if ch in "\u2028\u2029":
            return _("contains a line break")
    return None


# input_checks.text_problem's sentences, for clean_reason to say in the reader's language.
_STORED_PROBLEMS = {N_("is not valid UTF-8 text")}


def _said(problem: str) -> str:
    """A text_problem sentence in the reader's language (English when it is not known)."""
    if problem in _STORED_PROBLEMS:
        return _(problem)
    start, _sep, code = problem.partition(" (U+")
    if start == "contains a control character" and code.endswith(")"):
        return _("contains a control character (U+%(code)s)", code=code[:-1])
    return problem


def _number(value: int) -> str:
    from .services.wording import number  # wording imports this module

    return number(value)


def capital(text: str) -> str:
    """``text`` with its first letter in capitals, to start a sentence (not str.capitalize,
    which lowers the rest: German nouns keep theirs)."""
    return f"{text[0].upper()}{text[1:]}" if text else text


def clean_title(value: object) -> str:
    """An application's title: the one rule the draft's creation and its edits share."""
    return clean_line(value, N_("the title"), MAX_TITLE)


def clean_line(value: object, label: str, max_length: int, *, required: bool = True) -> str:
    """A one-line name or title: stripped, visible characters only, within ``max_length``.

    Raises InvalidInput naming ``label``, in the reader's language: ``label`` is English,
    marked with N_ where it is written and translated here.
    """
    text = "" if value is None else str(value).strip()
    field = _(label)
    if required and not text:
        raise InvalidInput(_("Give %(field)s.", field=field))
    if len(text) > max_length:
        raise InvalidInput(_("%(field)s is too long: at most %(limit)s characters.",
                             field=capital(field), limit=_number(max_length)))
    problem = line_problem(text)
    if problem:
        raise InvalidInput(_("%(field)s %(problem)s; type it again without it.",
                             field=capital(field), problem=problem))
    return text


def clean_reason(value: object, missing: str, max_length: int) -> str:
    """A reason or comment of several lines, as kept in a history: given (else
    InvalidInput(``missing``)), within ``max_length``, no control or invisible characters."""
    text = str(value or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(missing)
    if len(text) > max_length:
        raise InvalidInput(_("Keep the reason to at most %(limit)s characters.",
                             limit=_number(max_length)))
    problem = text_problem(text)
    if problem:
        raise InvalidInput(_("The reason %(problem)s; type it again without it.",
                             problem=_said(problem)))
    return text


def listing(items: list[str], last: str = "and") -> str:
    """"a, b and c": items in a sentence."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"
