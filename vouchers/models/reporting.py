"""Final reports and the payments made against a voucher."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .applications import Application
from .base import money, timestamp, utcnow
from .people import User

REPORT_STATUSES = ("draft", "submitted", "returned", "approved")


class FinalReport(db.Model):
    __tablename__ = "final_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    actual_costs: Mapped[money | None]
    status: Mapped[str] = mapped_column(String(10), default="draft")
    submitted_at: Mapped[timestamp | None]
    decided_at: Mapped[timestamp | None]
    decision_comment: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship()

    __table_args__ = (
        CheckConstraint(f"status IN {REPORT_STATUSES!r}", name="status_known"),
        CheckConstraint("actual_costs IS NULL OR actual_costs >= 0", name="costs_not_negative"),
    )


class Payment(db.Model):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    amount: Mapped[money]
    paid_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(60))
    invoice_number: Mapped[str] = mapped_column(String(60), default="")
    invoice_date: Mapped[date | None]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[timestamp] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship()
    recorded_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payments_application", "application_id"),
        Index("ix_payments_paid_on", "paid_on"),
    )

