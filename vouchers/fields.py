"""Form fields shared by every role's forms."""

from __future__ import annotations

from wtforms import StringField

from .money import parse_amount


class MoneyField(StringField):
    """An amount in euros, read by money.parse_amount (so its messages too).

    A text input rather than DecimalField, whose parsing accepts "1e3" and rounds
    "1000.005" without a word, and whose messages do not say how to write the amount.
    """

    def __init__(self, *args, thousands: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.thousands = thousands

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        text = (valuelist[0] or "").strip()
        if text:
            self.data = parse_amount(text, thousands=self.thousands)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.2f}"
