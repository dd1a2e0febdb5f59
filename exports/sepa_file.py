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

from .words import N_, Words, words

SCHEMA = "pain.001.001.03"
CURRENCY = "EUR"
MAX_ID = 35  # Max35Text: message, payment information and end-to-end ids
MAX_NAME = 70
MAX_REMITTANCE = 140

# The EPC's SEPA character set (Implementation Guidelines, "Character set").
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]+")
_SPACES = re.compile(r" {2,}")


class SepaFileError(ValueError):
    """The file cannot be made from these data. ``words`` says why, for a person: English
    as ``str()``, in the reader's language through ``vouchers.i18n.said``."""

    def __init__(self, template: str, **values: object):
        self.words = words(template, **values)
        super().__init__(str(self.words))


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
    (InvalidStructure, N_("%(whose)s %(iban)s is not a valid IBAN: it holds characters an "
                          "IBAN cannot hold.")),
    (InvalidCountryCode, N_("%(whose)s %(iban)s is not a valid IBAN: it does not begin "
                            "with a known country code.")),
    (InvalidLength, N_("%(whose)s %(iban)s is not a valid IBAN: it has the wrong number of "
                       "characters for its country.")),
    (InvalidChecksumDigits, N_("%(whose)s %(iban)s is not a valid IBAN: its check digits do "
                               "not match (a typing error?).")),
)

# ``whose`` names the field in a message's first words; a caller may give its own (Words,
# or text already in the reader's language).
THE_IBAN, THE_BIC = words(N_("The IBAN")), words(N_("The BIC"))


def clean_iban(value: str, whose: object = THE_IBAN, *, sepa: bool = True) -> str:
    """The IBAN in compact form (spaces out, capitals); SepaFileError saying what is wrong."""
    text = (value or "").strip()
    if not text:
        raise SepaFileError(N_("%(whose)s is missing."), whose=whose)
    try:
        iban = schwifty.IBAN(text)
    except SchwiftyException as exc:
        problem = next((why for kind, why in _IBAN_PROBLEMS if isinstance(exc, kind)),
                       N_("%(whose)s %(iban)s is not a valid IBAN: its bank or account "
                          "number does not check out."))
        raise SepaFileError(problem, whose=whose, iban=text) from exc
    if sepa and not iban.in_sepa_zone:
        raise SepaFileError(N_("%(whose)s %(iban)s is in a country outside the SEPA zone: a "
                               "SEPA credit transfer cannot reach it."),
                            whose=whose, iban=iban.formatted)
    return iban.compact


def clean_bic(value: str, whose: object = THE_BIC) -> str:
    """The BIC in compact form, "" when none is given (an IBAN alone reaches a SEPA bank)."""
    text = (value or "").strip()
    if not text:
        return ""
    try:
        return schwifty.BIC(text).compact
    except SchwiftyException as exc:
        raise SepaFileError(N_("%(whose)s %(bic)s is not a valid BIC: a BIC has 8 or 11 "
                               "letters and digits (bank, country, place and branch), such "
                               "as COBADEFFXXX."), whose=whose, bic=text) from exc


def cents(amount: Decimal) -> int:
    """sepaxml takes amounts as integer cents."""
    if amount != amount.quantize(Decimal("0.01")) or amount <= 0:
        raise SepaFileError(N_("%(amount)s is not an amount in euros and cents above zero."),
                            amount=amount)
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


def _account(account: Account, nameless: str, whose_iban: Words, whose_bic: Words) -> dict:
    """sepaxml's account; ``nameless`` (a template) and the ``whose`` name the party in a
    refusal (whole phrases, not a party put in a phrase: "del programa", not "de el")."""
    name = sepa_text(account.name, MAX_NAME)
    if not name:
        raise SepaFileError(nameless, name=account.name)
    found = {"name": name, "IBAN": clean_iban(account.iban, whose_iban)}
    bic = clean_bic(account.bic, whose_bic)
    return found | ({"BIC": bic} if bic else {})


def _creditor(account: Account) -> dict:
    nameless = (N_("The account of %(name)s has no name the SEPA character set can write.")
                if (account.name or "").strip() else
                N_("A creditor's account has no name the SEPA character set can write."))
    return _account(account, nameless, words(N_("The IBAN of %(name)s"), name=account.name),
                    words(N_("The BIC of %(name)s"), name=account.name))


def build(file: TransferFile) -> bytes:
    """The pain.001.001.03 XML of ``file``, validated against the schema."""
    if not file.transfers:
        raise SepaFileError(N_("A SEPA file needs at least one transfer."))
    message_id = sepa_id(file.message_id)
    if message_id != file.message_id or not message_id:
        raise SepaFileError(N_("%(id)s cannot be a SEPA message id: up to %(most)s letters, "
                               "digits and dashes."), id=repr(file.message_id), most=MAX_ID)
    if file.created_at.utcoffset() is None:
        raise SepaFileError(N_("The file's creation time must say its time zone."))
    debtor = _account(file.debtor, N_("The programme's account has no name the SEPA "
                                      "character set can write."),
                      words(N_("The programme's IBAN")), words(N_("The programme's BIC")))
    config = {**debtor, "batch": True, "currency": CURRENCY}
    sepa = _BatchTransfer(config, message_id, file.created_at)
    for transfer in file.transfers:
        payment = {**_creditor(transfer.creditor),
                   "amount": cents(transfer.amount), "execution_date": file.execution_date,
                   "description": sepa_text(transfer.remittance, MAX_REMITTANCE) or "Voucher",
                   "endtoend_id": sepa_id(transfer.end_to_end_id) or "NOTPROVIDED"}
        sepa.add_payment(payment)
    try:
        return sepa.export(validate=True)
    except ValidationError as exc:
        raise SepaFileError(N_("The SEPA file does not validate against %(schema)s: "
                               "%(problem)s"), schema=SCHEMA, problem=exc.__cause__ or exc
                            ) from exc


__all__ = ["CURRENCY", "SCHEMA", "Account", "SepaFileError", "Transfer", "TransferFile",
           "build", "cents", "clean_bic", "clean_iban", "sepa_id", "sepa_text"]
