"""The set-up pages' shared checks: a refusal listing every problem, and one-line names
checked and said in the reader's language (services/call_specs.py, programme_setup.py,
partner_setup.py and providers.py use them)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import gettext as _

from ..i18n import reader_locale
from ..text import capital, line_problem
from .errors import InvalidInput
from .wording import number

NAME_MAX = 200


class SetupRefused(InvalidInput):
    """One or more set-up rules broken; ``problems`` lists each as a sentence."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems

    @property
    def message(self) -> str:
        # One problem a line: the pages list them (see manager/calls.py).
        return "\n".join(self.problems)


def line_fault(value: object, label: str, max_length: int) -> str | None:
    """What text.clean_line refuses in a one-line name (its length, a character it cannot
    hold), said in the reader's language with ``label`` (translated by the caller) and in
    English as clean_line says it; None when the name is fine."""
    text = "" if value is None else str(value).strip()
    if len(text) > max_length:
        return _("%(field)s is too long: at most %(limit)s characters.", field=capital(label),
                 limit=number(max_length))
    problem = line_problem(text)
    if problem:
        return _("%(field)s %(problem)s; type it again without it.", field=capital(label),
                 problem=problem)
    return None


def clean_name(value: object, label: str, max_length: int) -> str:
    """An optional one-line name, stripped (text.clean_line with required=False);
    InvalidInput, in the reader's language, naming ``label``."""
    fault = line_fault(value, label, max_length)
    if fault:
        raise InvalidInput(fault)
    return "" if value is None else str(value).strip()


def checked_line(value: str, label: str, problems: list[str], missing: str) -> str:
    """A name or title cleaned (text.clean_line's rules); its problem, if any, noted.
    ``label`` and ``missing`` come translated."""
    if not (value or "").strip():
        problems.append(missing)
        return ""
    fault = line_fault(value, label, NAME_MAX)
    if fault:
        problems.append(fault)
        return ""
    return str(value).strip()


def percent(value: Decimal) -> str:
    """A percentage's figure as typed ("0.005" in English, "0,005" in Catalan)."""
    figure = value.normalize()
    locale = reader_locale()
    return f"{figure:f}" if locale is None else format_decimal(
        figure, locale=locale, decimal_quantization=False, group_separator=False)


def refuse_if(problems: list[str]) -> None:
    if problems:
        raise SetupRefused(problems)
