"""Money is Decimal, rounded half up at the cent, in this one place.

``parse_amount`` reads what a person typed, strictly: digits, an optional decimal point
and at most two decimals. ``to_money`` rounds amounts the code computed (costs x rate).
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _

from .i18n import N_

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The largest amount a Numeric(12, 2) column holds.
MAX_MONEY = Decimal("9999999999.99")


def to_money(value) -> Decimal:
    """Parse and round to the cent; raise ValueError with a readable message."""
    if isinstance(value, float):
        # Floats carry binary noise; only accept them through their shortest repr.
        value = repr(value)
    text = "" if value is None else str(value).strip()
    if "," in text:
        # "1,234" and "12,5" mean different things across Europe: refuse rather than guess.
        raise ValueError(_(WRITE_WITH_A_DOT, amount=repr(text)))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(_("%(amount)s is not an amount of money.", amount=repr(text)))
    if abs(amount) > MAX_MONEY:
        raise ValueError(_too_large(text))
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# The messages a person reads (forms, services, the API), in the reader's language.
WRITE_WITH_A_DOT = N_("Write %(amount)s with a dot for cents and no thousands separator.")
TOO_MANY_DECIMALS = N_("%(amount)s has more than two decimals; give the cents only.")


def _too_large(amount: object) -> str:
    from .formatting import eur  # formatting writes amounts with this module

    return _("%(amount)s is more than the largest amount this system holds (%(largest)s).",
             amount=amount, largest=eur(MAX_MONEY))


def format_eur(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    # "−€5.00", as people write it, not "€-5.00" (a minus sign, not a hyphen).
    return f"−€{-amount:,.2f}" if amount < 0 else f"€{amount:,.2f}"


def format_money(amount: Decimal | None, currency: str = "EUR") -> str:
    """An amount with its currency: "€1,250.00" in euros, "1,070.38 GBP" otherwise."""
    if amount is None or currency == "EUR":
        return format_eur(amount)
    return f"−{-amount:,.2f} {currency}" if amount < 0 else f"{amount:,.2f} {currency}"


# ASCII digits only: Decimal() would also take "１２３", "١٢٣", "1e3" and "1_000".
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]{1,2})?", re.ASCII)
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,2})?", re.ASCII)


def parse_amount(value, *, thousands: bool = False) -> Decimal:
    """An amount a person typed; ValueError with a readable message if it is not one.

    Never rounds: "1000.005" is refused, not read as 1000.01. With ``thousands`` the form
    has said that commas group thousands ("12,500.00").
    """
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(_("%(amount)s is not an amount.", amount=value))
        # Checked before quantize, which cannot hold 1E+30 at the cent.
        if abs(amount) > MAX_MONEY:
            raise ValueError(_too_large(amount))
        if amount != amount.quantize(CENT):
            raise ValueError(_(TOO_MANY_DECIMALS, amount=value))
        text = None
    else:
        text = "" if value is None else str(value).strip()
        if thousands and _GROUPED.fullmatch(text):
            text = text.replace(",", "")
        if not _AMOUNT.fullmatch(text):
            if text.startswith("-") and _AMOUNT.fullmatch(text[1:]):
                raise ValueError(_("The amount cannot be negative."))
            if re.fullmatch(r"[0-9]+\.[0-9]{3,}", text, re.ASCII):
                raise ValueError(_(TOO_MANY_DECIMALS, amount=repr(text)))
            if "," in text:
                raise ValueError(_(WRITE_WITH_A_DOT, amount=repr(text)))
            raise ValueError(_("%(amount)s is not an amount: write digits with a dot for the "
                               "cents, such as 2500 or 2500.50.", amount=repr(text)))
        amount = Decimal(text)
    if abs(amount) > MAX_MONEY:
        raise ValueError(_too_large(amount))
    return amount.quantize(CENT)
