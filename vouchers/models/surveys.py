"""Follow-up surveys: what a voucher achieved some months after its payment."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .applications import Application
from .base import money, timestamp, utcnow


class FollowUpSurvey(db.Model):
    """One questionnaire of one voucher, ``months`` after its last payment.

    The answers are the indicators the vouchers promise; None: not answered (or not asked
    of this voucher type, services/surveys.py says which are).
    """

    __tablename__ = "follow_up_surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    months: Mapped[int]
    due_on: Mapped[date]
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    reminded_at: Mapped[timestamp | None]
    answered_at: Mapped[timestamp | None]
    jobs_created: Mapped[int | None]
    turnover_change: Mapped[money | None]
    market_entry: Mapped[bool | None]
    certification: Mapped[bool | None]
    follow_on_investment: Mapped[money | None]
    comment: Mapped[str] = mapped_column(Text, default="")

    application: Mapped[Application] = relationship()

    __table_args__ = (
        UniqueConstraint("application_id", "months",
                         name="uq_follow_up_surveys_application_months"),
        CheckConstraint("months > 0", name="months_positive"),
        CheckConstraint("jobs_created IS NULL OR jobs_created >= 0", name="jobs_not_negative"),
        Index("ix_follow_up_surveys_due", "answered_at", "due_on"),
    )
