"""The ledger: every movement of money on a voucher, append-only, and the payment batches.

Each entry moves up to three counters by the amounts it carries: ``committed`` (the
voucher's money held in its envelope), ``paid`` (money that reached the SME, net of
reversals and recoveries) and ``quota`` (the voucher's place in its type's quota). The
counters on the voucher (awarded - released, paid_amount) and on its call's voucher type
(committed, paid, awarded_count) are those sums: services/ledger.py is their one writer,
and the CHECK constraints below tie each kind of entry to the signs it may carry.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .applications import Application
from .base import money, str200, timestamp, utcnow
from .people import Organisation, User
from .programmes import Call

COMMITMENT, RELEASE, ADVANCE, PAYMENT, REVERSAL, RECOVERY = (
    "commitment", "release", "advance", "payment", "reversal", "recovery")
LEDGER_KINDS = (COMMITMENT, RELEASE, ADVANCE, PAYMENT, REVERSAL, RECOVERY)
KIND_LABELS = {
    COMMITMENT: "Commitment", RELEASE: "Release", ADVANCE: "Advance", PAYMENT: "Payment",
    REVERSAL: "Reversal", RECOVERY: "Recovery",
}
# What a Payment row (money sent to the SME) pays: an advance after the award, or the
# payment after the final report.
PAYMENT_KINDS = (ADVANCE, PAYMENT)
BATCH_PREPARED, BATCH_EXECUTED, BATCH_CANCELLED = "prepared", "executed", "cancelled"
BATCH_STATUSES = (BATCH_PREPARED, BATCH_EXECUTED, BATCH_CANCELLED)
DE_MINIMIS_REGULATION = "Commission Regulation (EU) 2023/2831"


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    # Copied from the voucher so the per-type sums need no join.
    call_voucher_type_id: Mapped[int] = mapped_column(ForeignKey("call_voucher_types.id"))
    kind: Mapped[str] = mapped_column(String(20))
    committed: Mapped[money]
    paid: Mapped[money]
    quota: Mapped[int] = mapped_column(default=0)
    # The value date: the award, the payment or the recovery day.
    booked_on: Mapped[date]
    at: Mapped[timestamp] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(60), default="")
    # The payment an advance, payment or reversal entry books.
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))

    application: Mapped[Application] = relationship()
    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint(f"kind IN {LEDGER_KINDS!r}", name="kind_known"),
        CheckConstraint(
            "(kind = 'commitment' AND committed > 0 AND paid = 0 AND quota = 1)"
            " OR (kind = 'release' AND committed <= 0 AND paid = 0 AND quota IN (0, -1)"
            " AND (committed < 0 OR quota = -1))"
            " OR (kind IN ('advance', 'payment') AND paid > 0 AND committed = 0 AND quota = 0"
            " AND payment_id IS NOT NULL)"
            " OR (kind = 'reversal' AND paid < 0 AND committed = 0 AND quota = 0"
            " AND payment_id IS NOT NULL)"
            " OR (kind = 'recovery' AND paid < 0 AND committed = 0 AND quota = 0)",
            name="signs_match_kind",
        ),
        # A payment is booked once and reversed at most once.
        UniqueConstraint("payment_id", "kind", name="uq_ledger_entries_payment_kind"),
        Index("ix_ledger_entries_application", "application_id", "id"),
        Index("ix_ledger_entries_type", "call_voucher_type_id"),
    )

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
def _ledger_is_append_only(mapper, connection, target):
    raise RuntimeError("ledger entries are append-only: post a reversal or a release")


class PaymentBatch(db.Model):
    """A SEPA credit-transfer file of payments due, recorded once the bank executed it."""

    __tablename__ = "payment_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    # The pain.001 message id: the same file, however often it is downloaded.
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=BATCH_PREPARED)
    execution_date: Mapped[date]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    executed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    executed_at: Mapped[timestamp | None]
    executed_on: Mapped[date | None]
    bank_reference: Mapped[str] = mapped_column(String(60), default="")
    # The programme's account as the batch was prepared: the file stays the same however
    # often it is downloaded, whatever is edited on the programme since.
    debtor_name: Mapped[str] = mapped_column(String(70), default="")
    debtor_iban: Mapped[str] = mapped_column(String(34), default="")
    debtor_bic: Mapped[str] = mapped_column(String(11), default="")

    call: Mapped[Call] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    executed_by: Mapped[User | None] = relationship(foreign_keys=[executed_by_id])
    items: Mapped[list[BatchItem]] = relationship(
        back_populates="batch", order_by="BatchItem.id", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(f"status IN {BATCH_STATUSES!r}", name="status_known"),
        CheckConstraint("status != 'executed' OR (executed_at IS NOT NULL "
                        "AND executed_on IS NOT NULL AND bank_reference != '')",
                        name="executed_has_reference"),
    )


class BatchItem(db.Model):
    """One transfer of a batch, with the bank details it was prepared with."""

    __tablename__ = "batch_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payment_batches.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[money]
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11), default="")
    account_holder: Mapped[str200]
    remittance: Mapped[str] = mapped_column(String(140))
    # The voucher's id while the batch awaits execution, else NULL: the unique index
    # keeps a voucher in one open batch at a time (NULLs never clash).
    pending_application_id: Mapped[int | None] = mapped_column(unique=True)

    batch: Mapped[PaymentBatch] = relationship(back_populates="items")
    application: Mapped[Application] = relationship()

    __table_args__ = (
        CheckConstraint(f"kind IN {PAYMENT_KINDS!r}", name="kind_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )


class BankDetailsChange(db.Model):
    """New bank details asked for after an award: a manager confirms them before use."""

    __tablename__ = "bank_details_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11), default="")
    account_holder: Mapped[str200]
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[timestamp] = mapped_column(default=utcnow)
    # "confirmed" or "refused" once a manager decided; None while pending.
    outcome: Mapped[str | None] = mapped_column(String(10))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[timestamp | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    # The organisation's id while pending: one pending change per company.
    pending_organisation_id: Mapped[int | None] = mapped_column(unique=True)

    organisation: Mapped[Organisation] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint("outcome IS NULL OR outcome IN ('confirmed', 'refused')",
                        name="outcome_known"),
    )


class DeMinimisGrant(db.Model):
    """An award as de minimis aid, with what a central register asks for, as granted."""

    __tablename__ = "de_minimis_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    undertaking: Mapped[str200]
    country: Mapped[str] = mapped_column(String(2))
    vat_number: Mapped[str] = mapped_column(String(20), default="")
    registry_number: Mapped[str] = mapped_column(String(40))
    granting_authority: Mapped[str200]
    granted_on: Mapped[date]
    amount: Mapped[money]
    regulation: Mapped[str] = mapped_column(String(60), default=DE_MINIMIS_REGULATION)
    recorded_at: Mapped[timestamp] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship()

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)
