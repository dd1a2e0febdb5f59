"""A payment batch's SEPA credit-transfer file (pain.001), rebuilt from the batch.

The same message id and the same transfers every time: downloading it again records
nothing (services/payment_batches.py prepares, executes and cancels the batches).
"""

from __future__ import annotations

from flask_babel import gettext as _

from exports import sepa_file
from exports.sepa_file import Account, SepaFileError, Transfer, TransferFile

from ..i18n import said
from ..models import PaymentBatch
from ..models.ledger import BATCH_CANCELLED
from .errors import PaymentRefused


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
