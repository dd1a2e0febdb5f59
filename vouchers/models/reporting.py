"""Final reports and the payments made against a voucher."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows import lifecycle

from ..extensions import db
from .applications import Application
from .base import money, timestamp, utcnow
from .partners import exchange_rate
from .people import User

REPORT_STATUSES = ("draft", "submitted", "returned", "approved")


def report_status(application_state: str, decided_at: datetime | None) -> str:
    """A final report's status follows from its application's state: no second state
    machine to keep in step. ``decided_at`` tells a report sent back from a new one."""
    if application_state == lifecycle.REPORTING:
        return "returned" if decided_at is not None else "draft"
    if application_state == lifecycle.REPORT_SUBMITTED:
        return "submitted"
    if application_state in (lifecycle.COMPLETED, lifecycle.PAID):
        return "approved"
    return "draft"


class FinalReport(db.Model):
    __tablename__ = "final_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    actual_costs: Mapped[money | None]
    submitted_at: Mapped[timestamp | None]
    decided_at: Mapped[timestamp | None]
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    # Costs reported in the partner's currency, converted at submission (services/rates):
    # ``actual_costs`` is then their EUR value at ``rate`` (units per EUR).
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    costs_in_currency: Mapped[money | None]
    rate: Mapped[Decimal | None] = mapped_column(exchange_rate)

    application: Mapped[Application] = relationship()

    __table_args__ = (
        CheckConstraint("actual_costs IS NULL OR actual_costs >= 0", name="costs_not_negative"),
    )

    @property
    def status(self) -> str:
        return report_status(self.application.state, self.decided_at)


class Payment(db.Model):
    """Money sent to the SME: an advance or the payment after the report. Never edited:
    a wrong one is reversed by a ledger entry (services/payments.reverse_payment)."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    # "advance" or "payment" (models.ledger.PAYMENT_KINDS).
    kind: Mapped[str] = mapped_column(String(20), default="payment")
    amount: Mapped[money]
    paid_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(60))
    invoice_number: Mapped[str] = mapped_column(String(60), default="")
    invoice_date: Mapped[date | None]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[timestamp] = mapped_column(default=utcnow)
    # The batch transfer it records, if paid by a SEPA file: once, never twice.
    batch_item_id: Mapped[int | None] = mapped_column(ForeignKey("batch_items.id"),
                                                      unique=True)
    # What was transferred in the partner's currency; ``amount`` is its EUR value at
    # ``rate`` (units per EUR) of the month rate_year/rate_month, frozen when recorded.
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    amount_in_currency: Mapped[money | None]
    rate: Mapped[Decimal | None] = mapped_column(exchange_rate)
    rate_year: Mapped[int | None]
    rate_month: Mapped[int | None]

    application: Mapped[Application] = relationship()
    recorded_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("kind IN ('advance', 'payment')", name="kind_known"),
        Index("ix_payments_application", "application_id"),
        Index("ix_payments_paid_on", "paid_on"),
    )

