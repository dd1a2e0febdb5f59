"""Programmes, their calls, the per-type budget envelopes and scoring criteria."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import figures, voucher_types
from ..extensions import db
from .base import money, rate, str200, timestamp, utcnow

# The voucher types come from their registry; the models only name them.
VOUCHER_TYPES = voucher_types.CODES
VOUCHER_TYPE_LABELS = voucher_types.LABELS
PROVIDER_TYPES = voucher_types.PROVIDER_TYPES
# What a call is at a given instant (Call.status); the labels are for pages.
CALL_UPCOMING, CALL_OPEN, CALL_CLOSED = "upcoming", "open", "closed"
CALL_STATUS_LABELS = {CALL_UPCOMING: "Upcoming", CALL_OPEN: "Open", CALL_CLOSED: "Closed"}


class Programme(db.Model):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str200]
    funder: Mapped[str200]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total_budget: Mapped[money]
    starts_on: Mapped[date]
    ends_on: Mapped[date]

    calls: Mapped[list[Call]] = relationship(back_populates="programme", order_by="Call.opens_at")

    __table_args__ = (CheckConstraint("total_budget >= 0", name="budget_not_negative"),)


class Call(db.Model):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str200]
    description: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[timestamp]
    closes_at: Mapped[timestamp]
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="calls")
    voucher_types: Mapped[list[CallVoucherType]] = relationship(
        back_populates="call", order_by="CallVoucherType.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (CheckConstraint("closes_at > opens_at", name="window_ordered"),)

    def status(self, at: datetime) -> str:
        """"upcoming", "open" or "closed" at ``at``: the one place this is decided."""
        if at < self.opens_at:
            return CALL_UPCOMING
        return CALL_OPEN if at < self.closes_at else CALL_CLOSED

    def is_open(self, at: datetime) -> bool:
        return self.status(at) == CALL_OPEN

    @classmethod
    def open_at(cls, at: datetime):
        """The same rule as ``status(at) == "open"``, as a condition for queries."""
        return (cls.opens_at <= at) & (cls.closes_at > at)

    def voucher_type(self, name: str) -> CallVoucherType | None:
        return next((t for t in self.voucher_types if t.voucher_type == name), None)


class CallVoucherType(db.Model):
    """One voucher type offered by a call: its quota, envelope and running commitments.

    ``committed`` and ``awarded_count`` are maintained by the award and cancel services
    with conditional updates; the CHECK constraints make the database itself refuse an
    over-commitment, whatever the code in front of it does.
    """

    __tablename__ = "call_voucher_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    voucher_type: Mapped[str] = mapped_column(String(30))
    position: Mapped[int] = mapped_column(default=0)
    quota: Mapped[int]
    max_amount: Mapped[money]
    funding_rate: Mapped[rate]
    envelope: Mapped[money]
    committed: Mapped[money] = mapped_column(default=Decimal("0.00"))
    awarded_count: Mapped[int] = mapped_column(default=0)
    # Numbers the references of the type's applications; see transitions._new_reference.
    references_issued: Mapped[int] = mapped_column(default=0, server_default="0")
    score_scale: Mapped[int] = mapped_column(default=5)

    call: Mapped[Call] = relationship(back_populates="voucher_types")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="call_voucher_type", order_by="Criterion.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        UniqueConstraint("call_id", "voucher_type", name="uq_call_voucher_types_call_type"),
        CheckConstraint(f"voucher_type IN {VOUCHER_TYPES!r}", name="type_known"),
        CheckConstraint("quota >= 0", name="quota_not_negative"),
        CheckConstraint("max_amount > 0", name="max_amount_positive"),
        CheckConstraint("funding_rate > 0 AND funding_rate <= 1", name="rate_in_range"),
        CheckConstraint("envelope >= 0", name="envelope_not_negative"),
        CheckConstraint("committed >= 0 AND committed <= envelope", name="committed_in_envelope"),
        CheckConstraint("awarded_count >= 0 AND awarded_count <= quota", name="count_in_quota"),
        CheckConstraint("score_scale >= 1", name="scale_positive"),
    )

    @property
    def label(self) -> str:
        return VOUCHER_TYPE_LABELS[self.voucher_type]

    @property
    def allocation(self) -> figures.Allocation:
        """Quota and envelope with the running totals, as ``vouchers/figures.py`` reads them."""
        return figures.Allocation(quota=self.quota, awarded=self.awarded_count,
                                  envelope=self.envelope, committed=self.committed)

    @property
    def remaining_quota(self) -> int:
        return self.allocation.remaining_quota

    @property
    def remaining_envelope(self) -> Decimal:
        return self.allocation.remaining_envelope


class Criterion(db.Model):
    __tablename__ = "criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_voucher_type_id: Mapped[int] = mapped_column(
        ForeignKey("call_voucher_types.id"), index=True
    )
    name: Mapped[str200]
    description: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    position: Mapped[int] = mapped_column(default=0)

    call_voucher_type: Mapped[CallVoucherType] = relationship(back_populates="criteria")

    __table_args__ = (CheckConstraint("weight > 0", name="weight_positive"),)


class ServiceProvider(db.Model):
    """A life-science service provider in the catalogue validation vouchers buy from."""

    __tablename__ = "service_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str200]
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str200]
    services: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    active: Mapped[bool] = mapped_column(default=True)
