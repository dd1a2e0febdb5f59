"""Money is Decimal, rounded half up at the cent, in this one place."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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
        raise ValueError(f"Write {text!r} with a dot for cents and no thousands separator.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(f"{text!r} is not an amount of money.")
    if abs(amount) > MAX_MONEY:
        raise ValueError(f"{text} is more than the largest amount this system holds "
                         f"(€{MAX_MONEY:,.2f}).")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_eur(amount: Decimal | None) -> str:
    if amount is None:
        return "—"
    return f"€{amount:,.2f}"
