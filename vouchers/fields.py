"""Form fields shared by every role's forms."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from decimal import Decimal

from flask_babel import gettext as _
from wtforms import StringField
from wtforms.validators import StopValidation, ValidationError

from .i18n import N_
from .money import parse_amount


class _ParsedField(StringField, ABC):
    """A text input whose value is parsed strictly; the typed text is shown back as is."""

    @abstractmethod
    def parse(self, text: str) -> Decimal:
        """The value of ``text``; ValueError with the message the user reads."""

    def shown(self, value: Decimal) -> str:
        return str(value)

    def pre_validate(self, form) -> None:
        # A value that did not parse has said so; range checks on it would only add noise.
        if self.process_errors:
            raise StopValidation()

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        text = (valuelist[0] or "").strip()
        if text:
            self.data = self.parse(text)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self.shown(self.data)


class MoneyField(_ParsedField):
    """An amount in euros, read by money.parse_amount (so its messages too).

    A text input rather than DecimalField, whose parsing accepts "1e3" and rounds
    "1000.005" without a word, and whose messages do not say how to write the amount.
    """

    def __init__(self, *args, thousands: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.thousands = thousands

    def parse(self, text: str) -> Decimal:
        return parse_amount(text, thousands=self.thousands)

    def shown(self, value: Decimal) -> str:
        return f"{value:.2f}"


class NumberField(_ParsedField):
    """A decimal number such as 75 or 62.5: ASCII digits and at most ``places`` decimals.

    For rates and weights: DecimalField takes "NaN", "Infinity" and "1e30", which then
    break every comparison made with them.
    """

    def __init__(self, *args, places: int = 2, **kwargs):
        super().__init__(*args, **kwargs)
        self.places = places
        self._pattern = re.compile(rf"[0-9]{{1,9}}(?:\.[0-9]{{1,{places}}})?", re.ASCII)

    def shown(self, value: Decimal) -> str:
        # 62.5000 (a rate read back from the database) shows as 62.5, which reads back.
        return format(value.normalize(), "f")

    def parse(self, text: str) -> Decimal:
        if not self._pattern.fullmatch(text):
            raise ValueError(_("Give a number such as 75 or 62.5, with at most "
                               "%(places)s decimals.", places=self.places))
        return Decimal(text)


class CountField(_ParsedField):
    """A whole number typed as ASCII digits (IntegerField takes "1_000" and "٣")."""

    _pattern = re.compile(r"[0-9]{1,9}", re.ASCII)

    def parse(self, text: str) -> int:
        if not self._pattern.fullmatch(text):
            raise ValueError(_("Give a whole number such as 3."))
        return int(text)

    def shown(self, value: int) -> str:
        return str(value)


def optional_id(value) -> int | None:
    """A select's chosen id; None for its "choose one" line (an empty value)."""
    return None if value in (None, "", "None") else int(value)


def at_least_zero(message: str = N_("Cannot be negative.")):
    """A validator refusing a number below zero with ``message`` (marked N_). Not
    NumberRange: it would add "cannot be negative" to a number that did not parse."""
    def check(form, field) -> None:
        if field.data is not None and field.data < 0:
            raise ValidationError(_(message))
    return check


not_negative = at_least_zero()
