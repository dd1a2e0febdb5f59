"""Programmes, their calls, the per-type budget envelopes and scoring criteria."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
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
# Eligibility defaults of a new call (the seed programme's rules; see services/eligibility).
SME_SIZES = ("micro", "small", "medium")
SUPPORT_CAP = Decimal("60000.00")  # EU ceiling for financial support to third parties
DIVERGENCE_SHARE = Decimal("0.30")


class Programme(db.Model):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str200]
    funder: Mapped[str200]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    total_budget: Mapped[money]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    # The partner regions, as [country, region] pairs: the default eligible regions.
    regions: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    # Who grants the aid, as the de minimis register records it; "" : the funder.
    granting_authority: Mapped[str] = mapped_column(String(200), default="")
    # The programme's own account, the debtor of its SEPA payment files.
    debtor_name: Mapped[str] = mapped_column(String(70), default="")
    debtor_iban: Mapped[str] = mapped_column(String(34), default="")
    debtor_bic: Mapped[str] = mapped_column(String(11), default="")
    # Which month's InforEuro rate converts partners' amounts (models.partners.RATE_RULES).
    rate_rule: Mapped[str] = mapped_column(String(12), default="submission")
    # Managers always sign in with a second factor; evaluators too when this is set.
    evaluators_need_second_factor: Mapped[bool] = mapped_column(default=False)

    calls: Mapped[list[Call]] = relationship(back_populates="programme", order_by="Call.opens_at")

    __table_args__ = (CheckConstraint("total_budget >= 0", name="budget_not_negative"),
                      CheckConstraint("rate_rule IN ('submission', 'payment')",
                                      name="rate_rule_known"))


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
    # Eligibility rules (services/eligibility.py reads them; None means "no limit" or
    # "the programme's", as each comment says).
    # [country, region] pairs; None: the programme's partner regions.
    eligible_regions: Mapped[list[list[str]] | None] = mapped_column(JSON)
    allowed_sizes: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(SME_SIZES))
    # Per SME, call and voucher type; None: no limit.
    max_applications_per_type: Mapped[int | None] = mapped_column(default=1)
    # Months after a voucher's last payment at which its SME gets a follow-up survey
    # (services/surveys.py), e.g. [6, 24]; empty: none.
    follow_up_months: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Vouchers per SME over the programme; None: no limit.
    max_vouchers_per_sme: Mapped[int | None]
    # Total support per SME over the programme; None: no cap.
    support_cap: Mapped[money | None] = mapped_column(default=SUPPORT_CAP)
    # The last day activities may take place; None: the programme's end.
    implementation_ends_on: Mapped[date | None]
    # Evaluation: evaluators' totals further apart than this share of the scale diverge.
    divergence_share: Mapped[rate] = mapped_column(default=DIVERGENCE_SHARE)
    extra_evaluator_on_divergence: Mapped[bool] = mapped_column(default=False)
    # Besides managers, who may record the consensus score.
    lead_evaluator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Money: the share of the award paid in advance (None: no advance), and whether a
    # voucher closed on a report of zero eligible costs gives its quota place back.
    advance_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    zero_report_returns_quota: Mapped[bool] = mapped_column(default=True)
    # Deadlines (services/deadlines.py): evaluators' reviews are due by this day; a
    # voucher's final report this many days after its activity ends.
    review_deadline: Mapped[date | None]
    report_due_days: Mapped[int] = mapped_column(default=60)
    # Evaluators do not assess SMEs of their own partner's regions.
    evaluators_from_other_partners: Mapped[bool] = mapped_column(default=False)

    programme: Mapped[Programme] = relationship(back_populates="calls")
    voucher_types: Mapped[list[CallVoucherType]] = relationship(
        back_populates="call", order_by="CallVoucherType.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="window_ordered"),
        CheckConstraint("max_applications_per_type IS NULL OR max_applications_per_type >= 1",
                        name="max_applications_positive"),
        CheckConstraint("max_vouchers_per_sme IS NULL OR max_vouchers_per_sme >= 1",
                        name="max_vouchers_positive"),
        CheckConstraint("support_cap IS NULL OR support_cap > 0", name="support_cap_positive"),
        CheckConstraint("divergence_share > 0 AND divergence_share <= 1",
                        name="divergence_in_range"),
        CheckConstraint("advance_share IS NULL OR (advance_share > 0 AND advance_share < 1)",
                        name="advance_in_range"),
    )

    @property
    def regions(self) -> list[list[str]]:
        """The eligible regions: the call's own list, else the programme's."""
        if self.eligible_regions is not None:
            return self.eligible_regions
        return self.programme.regions or []

    @property
    def last_activity_day(self) -> date:
        return self.implementation_ends_on or self.programme.ends_on

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

    ``committed``, ``paid`` and ``awarded_count`` are the sums of the type's ledger
    entries, kept by services/ledger.py with conditional updates; the CHECK constraints
    make the database itself refuse an over-commitment, whatever the code in front of it
    does.
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
    paid: Mapped[money] = mapped_column(default=Decimal("0.00"))
    awarded_count: Mapped[int] = mapped_column(default=0)
    # Numbers the references of the type's applications; see transitions._new_reference.
    references_issued: Mapped[int] = mapped_column(default=0, server_default="0")
    score_scale: Mapped[int] = mapped_column(default=5)
    # The provider must be based in another region than the SME.
    provider_other_region: Mapped[bool] = mapped_column(default=False)
    # Attachment kinds (voucher_types.ATTACHMENT_KINDS) an application must carry.
    required_attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Minimum weighted total (on the score scale) an award needs; None: no threshold.
    threshold: Mapped[money | None]

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
        CheckConstraint("paid >= 0 AND paid <= committed", name="paid_within_committed"),
        CheckConstraint("awarded_count >= 0 AND awarded_count <= quota", name="count_in_quota"),
        CheckConstraint("score_scale >= 1", name="scale_positive"),
        CheckConstraint("threshold IS NULL OR threshold >= 0", name="threshold_not_negative"),
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
    # The least score (on the scale) this criterion needs for an award; None: none.
    minimum: Mapped[int | None]

    call_voucher_type: Mapped[CallVoucherType] = relationship(back_populates="criteria")

    __table_args__ = (
        CheckConstraint("weight > 0", name="weight_positive"),
        CheckConstraint("minimum IS NULL OR minimum >= 0", name="minimum_not_negative"),
    )


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
