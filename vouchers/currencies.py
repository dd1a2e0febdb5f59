"""The currencies a partner may keep its books in: the euro, and those the Commission's
InforEuro publishes a monthly rate for (services/rates.py converts with those rates).

A fixed set rather than whatever the rates table holds: a partner is set up before the
month's rates are imported, and a typing slip (NOR for NOK) must be refused at once.
"""

from flask_babel import gettext as _

EUR = "EUR"

# EU member states outside the euro area (BGN stays: amounts booked before Bulgaria's
# changeover are still converted at its rates), then the EEA/EFTA states.
EU_NON_EURO = ("BGN", "CZK", "DKK", "HUF", "PLN", "RON", "SEK")
EEA_EFTA = ("ISK", "NOK", "CHF")
# Other currencies InforEuro publishes that a partner of a European programme may use.
OTHER_INFOREURO = (
    "GBP", "USD", "ALL", "AMD", "AUD", "AZN", "BAM", "BRL", "BYN", "CAD", "CLP", "CNY",
    "COP", "EGP", "GEL", "HKD", "IDR", "ILS", "INR", "JOD", "JPY", "KRW", "KZT", "LBP",
    "MAD", "MDL", "MKD", "MXN", "MYR", "NZD", "PHP", "RSD", "SGD", "THB", "TND", "TRY",
    "TWD", "UAH", "XAF", "XOF", "ZAR",
)
INFOREURO_CURRENCIES = frozenset(EU_NON_EURO + EEA_EFTA + OTHER_INFOREURO)
PARTNER_CURRENCIES = INFOREURO_CURRENCIES | {EUR}


def currency_problem(code: str) -> str | None:
    """Why ``code`` cannot be a partner's currency (in the reader's language), or None."""
    if len(code) != 3 or not code.isalpha() or not code.isupper():
        return _("Give the currency as its three-letter ISO code in capitals, as in EUR or "
                 "PLN.")
    if code not in PARTNER_CURRENCIES:
        return _("%(code)s is not the euro nor a currency InforEuro publishes a rate for; "
                 "give EUR or an InforEuro currency such as PLN, SEK or CHF.", code=code)
    return None
