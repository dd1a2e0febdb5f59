"""The bank's side of a payment batch: the accounts it pays from (the programme's) and to
(each company's), checked with exports/sepa_file.py, and its SEPA credit-transfer file
(pain.001), rebuilt from the batch.

The same message id and the same transfers every time: downloading it again records
nothing (services/payment_batches.py prepares, executes and cancels the batches).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from exports import sepa_file
from exports.sepa_file import Account, SepaFileError, Transfer, TransferFile

from ..extensions import db
from ..i18n import N_, said
from ..models import Application, BankDetailsChange, Call, PaymentBatch
from ..models.ledger import BATCH_CANCELLED
from .errors import PaymentRefused

NO_BANK_DETAILS = N_("No bank details: the company has not given its IBAN and account "
                     "holder.")
CHANGE_PENDING = N_("New bank details await a manager's confirmation: confirm or refuse them "
                    "on the company's page first.")


def changes_pending(organisation_ids: set[int]) -> set[int]:
    """The companies among ``organisation_ids`` whose new bank details await a manager."""
    return set(db.session.scalars(
        select(BankDetailsChange.pending_organisation_id)
        .where(BankDetailsChange.pending_organisation_id.in_(organisation_ids))))


def bank_details(application: Application, change_pending: bool) -> dict:
    """The company's account for a transfer (IBAN, BIC, holder), or why there is none."""
    org = application.organisation
    if not (org.iban or "").strip() or not (org.account_holder or "").strip():
        return {"problem": _(NO_BANK_DETAILS)}
    holder = org.account_holder.strip()
    try:
        iban = sepa_file.clean_iban(org.iban, _("The company's IBAN"))
        bic = sepa_file.clean_bic(org.bic or "", _("The company's BIC"))
    except SepaFileError as exc:
        return {"problem": said(exc), "account_holder": holder}
    found = {"iban": iban, "bic": bic, "account_holder": holder}
    return found | ({"problem": _(CHANGE_PENDING)} if change_pending else {})


def debtor_of(call: Call) -> Account:
    """The programme's own account, which the SEPA file pays from."""
    programme = call.programme
    if not programme.debtor_name.strip() or not programme.debtor_iban.strip():
        raise PaymentRefused(_("Give the bank account of %(programme)s (account name and "
                               "IBAN) on the programme's page first: the SEPA file pays from "
                               "it.", programme=programme.name))
    try:
        return Account(name=programme.debtor_name,
                       iban=sepa_file.clean_iban(programme.debtor_iban,
                                                 _("The programme's IBAN")),
                       bic=sepa_file.clean_bic(programme.debtor_bic, _("The programme's BIC")))
    except SepaFileError as exc:
        raise PaymentRefused(_("%(problem)s Correct it on the programme's page.",
                               problem=said(exc))) from exc


def transfer_file(batch: PaymentBatch) -> TransferFile:
    return TransferFile(
        message_id=batch.message_id, created_at=batch.created_at,
        execution_date=batch.execution_date,
        debtor=Account(name=batch.debtor_name, iban=batch.debtor_iban, bic=batch.debtor_bic),
        transfers=[Transfer(end_to_end_id=f"VCH-B{batch.id}-I{item.id}", amount=item.amount,
                            creditor=Account(name=item.account_holder, iban=item.iban,
                                             bic=item.bic),
                            remittance=item.remittance) for item in batch.items])


def sepa_xml(batch: PaymentBatch) -> bytes:
    """The batch's pain.001 file. Reads only: downloading it again records nothing."""
    if batch.status == BATCH_CANCELLED:
        raise PaymentRefused(_("This batch was cancelled: its file must not go to the bank."))
    try:
        return sepa_file.build(transfer_file(batch))
    except SepaFileError as exc:
        raise PaymentRefused(_("The SEPA file cannot be made: %(problem)s",
                               problem=said(exc))) from exc


def sepa_filename(batch: PaymentBatch) -> str:
    return f"{batch.message_id}.xml"
