"""The demo's company numbers and bank accounts: valid ones, as a real company gives them.

Each company banks where companies of its region do; its IBAN is built by schwifty
(which also computes the national check digits where a country has them, and knows each
bank's BIC), its VAT number completed by python-stdnum's check-digit rules, and its
registry number is the national one that number carries (a CIF, SIREN, CVR or enterprise
number), a German court's register entry, or the plain number of a register stdnum has no
rule for (KvK, Companies House, CRO). They are drawn from a random generator of their own,
so the rest of the demo's draws stay put.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from schwifty import BIC, IBAN
from stdnum import luhn
from stdnum.de import vat as de_vat
from stdnum.es import cif
from stdnum.eu import vat as eu_vat
from stdnum.fr import siren
from stdnum.gb import vat as gb_vat
from stdnum.ie import vat as ie_vat

from ..models import Organisation, Programme

# The court keeping the commercial register of each German region's companies.
COURTS = {"Baden-Wuerttemberg": ("Stuttgart", "Mannheim", "Ulm"),
          "North Rhine-Westphalia": ("Köln", "Düsseldorf", "Aachen")}

# Business banks per country: (bank code, branch or sort code digits, account digits).
BANKS = {
    "ES": [("2100", 4, 10), ("0081", 4, 10), ("0182", 4, 10)],  # CaixaBank, Sabadell, BBVA
    "NL": [("ABNA", 0, 10), ("RABO", 0, 10), ("INGB", 0, 10)],
    "DK": [("3000", 0, 10), ("2000", 0, 10)],  # Danske Bank, Nordea
    "DE": [("60050101", 0, 10), ("60090100", 0, 10)],  # BW-Bank, Volksbank Stuttgart
    "DE-NRW": [("37050198", 0, 10), ("30050110", 0, 10)],  # Sparkasse KölnBonn, Düsseldorf
    "UK": [("NWBK", 6, 8), ("BARC", 6, 8), ("LOYD", 6, 8)],
    "FR": [("30004", 5, 11), ("30002", 5, 11), ("10278", 5, 11)],  # BNP, LCL, Crédit Mutuel
    "BE": [("001", 0, 7), ("310", 0, 7), ("734", 0, 7)],  # BNP Paribas Fortis, ING, KBC
    "IE": [("AIBK", 6, 8), ("BOFI", 6, 8)],
}
# The lead partner pays the vouchers from the programme's account at its bank.
DEBTOR_NAME = "Biocat - HLS Cross-border Vouchers"
GRANTING_AUTHORITY = "Biocat (Fundacio BioRegio de Catalunya), lead partner"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def iban(rng: random.Random, bank_key: str) -> IBAN:
    """A valid IBAN at one of the region's banks, whose BIC schwifty's registry knows.

    German banks check account numbers with their own methods: draw until one passes.
    """
    country = "GB" if bank_key == "UK" else bank_key[:2]
    bank, branch_digits, account_digits = rng.choice(BANKS[bank_key])
    for _ in range(1000):
        candidate = IBAN.generate(country, bank_code=bank, branch_code=_digits(rng, branch_digits),
                                  account_code=_digits(rng, account_digits))
        try:
            checked = IBAN(str(candidate), validate_bban=True)
        except ValueError:
            continue
        if checked.bic is not None:
            return checked
    raise AssertionError(f"no valid account at {bank}")  # pragma: no cover


def bic_of(account: IBAN) -> str:
    return str(BIC(str(account.bic)))  # BIC() validates it again


def vat_number(rng: random.Random, country: str) -> str:
    """A compact VAT number with valid check digits, for a company of ``country``."""
    if country == "ES":  # a limited company's CIF: B, seven digits, a control digit
        body = "B" + _digits(rng, 7)
        number = "ES" + body + cif.calc_check_digits(body)[0]
    elif country == "FR":  # a two-digit key before the SIREN (Luhn)
        base = rng.choice("3456789") + _digits(rng, 7)
        number = "FR" + siren.to_tva(base + luhn.calc_check_digit(base))
    elif country == "DE":
        base = rng.choice("123456789") + _digits(rng, 7)
        number = "DE" + base + de_vat.mod_11_10.calc_check_digit(base)
    elif country == "BE":  # 0 and nine digits whose last two are 97 - the rest mod 97
        base = "0" + rng.choice("4789") + _digits(rng, 6)
        number = f"BE{base}{97 - int(base) % 97:02d}"
    elif country == "IE":
        base = rng.choice("3456789") + _digits(rng, 6)
        number = "IE" + base + ie_vat.calc_check_digit(base)
    else:
        number = None
        while number is None:  # the rules below accept one in ten stems or more
            if country == "NL":  # RSIN (mod 11) and the B01 of a company
                stem, endings = "NL" + rng.choice("123456789") + _digits(rng, 7), (
                    f"{d}B01" for d in string.digits)
            elif country == "DK":  # CVR, mod 11
                stem, endings = "DK" + rng.choice("123456789") + _digits(rng, 6), string.digits
            else:  # UK: mod 97 over nine digits
                stem, endings = "GB" + rng.choice("123456789") + _digits(rng, 6), (
                    f"{d:02d}" for d in range(100))
            number = next((stem + end for end in endings if is_valid_vat(stem + end)), None)
    assert is_valid_vat(number), number
    return number


def is_valid_vat(number: str) -> bool:
    """EU numbers by stdnum.eu.vat; the UK's (outside the EU since 2021) by stdnum.gb.vat."""
    if number.startswith("GB"):
        return gb_vat.is_valid(number)
    return eu_vat.is_valid(number) and eu_vat.compact(number) == number


def registry_number(rng: random.Random, country: str, region: str, vat: str) -> str:
    if country in ("ES", "FR", "BE", "DK"):  # the number inside the VAT number
        return vat[4:] if country == "FR" else vat[2:]
    if country == "DE":
        return f"{rng.choice(COURTS[region])} HRB {rng.randrange(10**4, 10**6)}"
    if country == "IE":  # CRO
        return str(rng.randrange(5 * 10**5, 8 * 10**5))
    if country == "UK":  # Companies House
        return f"{rng.randrange(9 * 10**6, 15 * 10**6):08d}"
    return str(rng.randrange(5 * 10**7, 9 * 10**7))  # NL: KvK


@dataclass(frozen=True)
class Identity:
    """What a company's profile says of its numbers and its account."""

    registry_number: str
    vat_number: str
    iban: str
    bic: str

    def fields(self) -> dict[str, str]:
        return {"registry_number": self.registry_number, "vat_number": self.vat_number,
                "iban": self.iban, "bic": self.bic}


def _bank_key(country: str, region: str) -> str:
    return "DE-NRW" if region == "North Rhine-Westphalia" else country


def identity(rng: random.Random, country: str, region: str) -> Identity:
    vat = vat_number(rng, country)
    account = iban(rng, _bank_key(country, region))
    return Identity(registry_number(rng, country, region, vat), vat, account.compact,
                    bic_of(account))


def give_programme_account(rng: random.Random, programme: Programme) -> None:
    """The lead partner's account the SEPA files pay from, and the granting authority."""
    debtor = iban(rng, "ES")
    programme.debtor_name, programme.debtor_iban = DEBTOR_NAME, debtor.compact
    programme.debtor_bic = bic_of(debtor)
    programme.granting_authority = GRANTING_AUTHORITY


def new_account(seed: int, org: Organisation) -> IBAN:
    """Another account of the company (at another bank of its region, most likely)."""
    rng = random.Random(f"{seed}:{org.legal_name}")
    while True:
        account = iban(rng, _bank_key(org.country, org.region))
        if account.compact != org.iban:
            return account
