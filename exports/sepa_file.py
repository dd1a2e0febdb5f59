"""A SEPA credit-transfer file (pain.001.001.03), built from plain data with sepaxml.

Nothing here imports Flask, the database or the vouchers package: the service in
``vouchers/services/payment_batches.py`` reads a batch and hands over a ``TransferFile``.
sepaxml builds the XML and validates it against the pain.001 schema it ships; this module
adds what a bank needs on top of the schema:

- the same batch gives the same file: sepaxml draws a random message id, payment
  information id and the current time for the header, so ``_BatchTransfer`` puts the
  batch's own message id and creation time there instead (a bank refuses a message id it
  has already executed, which is what stops a file sent twice from paying twice);
- text in the SEPA character set (the EPC's Latin subset), which the XSD does not check
  and banks refuse otherwise: ``sepa_text``;
- IBANs and BICs checked with schwifty, in their compact form: ``clean_iban``/``clean_bic``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import schwifty
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    InvalidStructure,
    SchwiftyException,
)
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError
from text_unidecode import unidecode  # sepaxml's own dependency, for the same transliteration

SCHEMA = "pain.001.001.03"
CURRENCY = "EUR"
MAX_ID = 35  # Max35Text: message, payment information and end-to-end ids
MAX_NAME = 70
MAX_REMITTANCE = 140

# The EPC's SEPA character set (Implementation Guidelines, "Character set").
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]+")
_SPACES = re.compile(r" {2,}")


class SepaFileError(ValueError):
    """The file cannot be made from these data; the message says why, for a person."""


@dataclass(frozen=True, kw_only=True)
class Account:
    """A party of a transfer: the programme (debtor) or an SME (creditor)."""

    name: str
    iban: str
    bic: str = ""


@dataclass(frozen=True, kw_only=True)
class Transfer:
    end_to_end_id: str
    amount: Decimal  # euros, at the cent
    creditor: Account
    remittance: str


@dataclass(frozen=True, kw_only=True)
class TransferFile:
    message_id: str
    created_at: datetime  # timezone-aware: the batch's creation, written in the header
    execution_date: date
    debtor: Account
    transfers: Sequence[Transfer]

    @property
    def control_sum(self) -> Decimal:
        return sum((t.amount for t in self.transfers), Decimal("0.00"))


def sepa_text(value: str, max_length: int) -> str:
    """``value`` in the SEPA character set: transliterated (Ø -> O, ß -> ss, & -> +), any
    other character a space, runs of spaces one, cut to ``max_length``."""
    text = _NOT_SEPA.sub(" ", unidecode(value or "").replace("&", "+"))
    return _SPACES.sub(" ", text).strip()[:max_length].strip()


def sepa_id(value: str, max_length: int = MAX_ID) -> str:
    """An identifier in the SEPA character set, without spaces, and without slashes (which
    banks refuse at its start, at its end or doubled)."""
    text = re.sub(r"[^A-Za-z0-9\-?:().,'+]+", "-", unidecode(value or "")).strip("-")
    return text[:max_length].strip("-")


_IBAN_PROBLEMS = (
    (InvalidStructure, "it holds characters an IBAN cannot hold"),
    (InvalidCountryCode, "it does not begin with a known country code"),
    (InvalidLength, "it has the wrong number of characters for its country"),
    (InvalidChecksumDigits, "its check digits do not match (a typing error?)"),
)


def clean_iban(value: str, whose: str = "The IBAN", *, sepa: bool = True) -> str:
    """The IBAN in compact form (spaces out, capitals); SepaFileError saying what is wrong."""
    text = (value or "").strip()
    if not text:
        raise SepaFileError(f"{whose} is missing.")
    try:
        iban = schwifty.IBAN(text)
    except SchwiftyException as exc:
        reason = next((why for kind, why in _IBAN_PROBLEMS if isinstance(exc, kind)),
                      "its bank or account number does not check out")
        raise SepaFileError(f"{whose} {text} is not a valid IBAN: {reason}.") from exc
    if sepa and not iban.in_sepa_zone:
        raise SepaFileError(f"{whose} {iban.formatted} is in a country outside the SEPA "
                            "zone: a SEPA credit transfer cannot reach it.")
    return iban.compact


def clean_bic(value: str, whose: str = "The BIC") -> str:
    """The BIC in compact form, "" when none is given (an IBAN alone reaches a SEPA bank)."""
    text = (value or "").strip()
    if not text:
        return ""
    try:
        return schwifty.BIC(text).compact
    except SchwiftyException as exc:
        raise SepaFileError(f"{whose} {text} is not a valid BIC: a BIC has 8 or 11 letters "
                            "and digits (bank, country, place and branch), such as "
                            "COBADEFFXXX.") from exc


def cents(amount: Decimal) -> int:
    """sepaxml takes amounts as integer cents."""
    if amount != amount.quantize(Decimal("0.01")) or amount <= 0:
        raise SepaFileError(f"{amount} is not an amount in euros and cents above zero.")
    return int(amount * 100)


class _BatchTransfer(SepaTransfer):
    """sepaxml's transfer with the batch's own message id, time and payment id (why: see
    the module's docstring). Its header and batch hooks are the seams it offers."""

    def __init__(self, config: dict, message_id: str, created_at: datetime):
        self._batch_id, self._created_at = message_id, created_at
        super().__init__(config, schema=SCHEMA)

    def _create_header(self):
        self.msg_id = self._batch_id
        super()._create_header()
        header = self._xml.find(f"{self.root_el}/GrpHdr/CreDtTm")
        header.text = self._created_at.isoformat(timespec="seconds")

    def _finalize_batch(self):
        super()._finalize_batch()
        # One execution date, so one payment information block, named like the message.
        for node in self._xml.iter("PmtInfId"):
            node.text = self._batch_id


def _account(account: Account, whose: str) -> dict:
    name = sepa_text(account.name, MAX_NAME)
    if not name:
        raise SepaFileError(f"{whose} has no name the SEPA character set can write.")
    found = {"name": name, "IBAN": clean_iban(account.iban, f"{whose}'s IBAN")}
    bic = clean_bic(account.bic, f"{whose}'s BIC")
    return found | ({"BIC": bic} if bic else {})


def build(file: TransferFile) -> bytes:
    """The pain.001.001.03 XML of ``file``, validated against the schema."""
    if not file.transfers:
        raise SepaFileError("A SEPA file needs at least one transfer.")
    message_id = sepa_id(file.message_id)
    if message_id != file.message_id or not message_id:
        raise SepaFileError(f"{file.message_id!r} cannot be a SEPA message id: up to "
                            f"{MAX_ID} letters, digits and dashes.")
    if file.created_at.utcoffset() is None:
        raise SepaFileError("The file's creation time must say its time zone.")
    config = {**_account(file.debtor, "The programme's account"), "batch": True,
              "currency": CURRENCY}
    sepa = _BatchTransfer(config, message_id, file.created_at)
    for transfer in file.transfers:
        payment = {**_account(transfer.creditor, transfer.creditor.name or "A creditor"),
                   "amount": cents(transfer.amount), "execution_date": file.execution_date,
                   "description": sepa_text(transfer.remittance, MAX_REMITTANCE) or "Voucher",
                   "endtoend_id": sepa_id(transfer.end_to_end_id) or "NOTPROVIDED"}
        sepa.add_payment(payment)
    try:
        return sepa.export(validate=True)
    except ValidationError as exc:
        raise SepaFileError(f"The SEPA file does not validate against {SCHEMA}: "
                            f"{exc.__cause__ or exc}") from exc


__all__ = ["CURRENCY", "SCHEMA", "Account", "SepaFileError", "Transfer", "TransferFile",
           "build", "cents", "clean_bic", "clean_iban", "sepa_id", "sepa_text"]
