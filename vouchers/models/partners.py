"""The consortium: partner agencies with their regions (NUTS codes), currencies and shares
of the envelopes; the InforEuro exchange rates; partner reports and their frozen lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import money, str200, timestamp, utcnow
from .people import User

# Units of a currency per 1 EUR, as InforEuro publishes them (IDR runs to five digits).
exchange_rate = Numeric(18, 6)
REPORT_DRAFT, REPORT_SUBMITTED = "draft", "submitted"
PARTNER_REPORT_STATUSES = (REPORT_DRAFT, REPORT_SUBMITTED)
# Which month's rate converts an amount: the month the partner report is submitted (as
# Interreg does) or the month of the payment.
RATE_RULES = ("submission", "payment")


class Partner(db.Model):
    """A partner agency of a programme: it follows the SMEs of its regions and pays them."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    name: Mapped[str200]
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # The lead partner's managers see the whole programme and report for the consortium.
    is_lead: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)

    regions: Mapped[list[PartnerRegion]] = relationship(
        back_populates="partner", order_by="PartnerRegion.id", cascade="all, delete-orphan")
    shares: Mapped[list[PartnerShare]] = relationship(
        back_populates="partner", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("programme_id", "name", name="uq_partners_programme_name"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        # One lead partner per programme, even when two managers save at once.
        Index("uq_partners_one_lead", "programme_id", unique=True,
              postgresql_where=text("is_lead"), sqlite_where=text("is_lead")),
    )

    def __repr__(self) -> str:
        return f"<Partner {self.name}>"


class PartnerRegion(db.Model):
    """One region a partner covers; ``region_key`` is the name as regions compare
    (services/call_specs.region_key), so one region has one partner per programme."""

    __tablename__ = "partner_regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str200]
    region_key: Mapped[str200]
    # NUTS 1-3 code (two letters of the country, then one to three characters).
    nuts_code: Mapped[str] = mapped_column(String(5))

    partner: Mapped[Partner] = relationship(back_populates="regions")

    __table_args__ = (
        UniqueConstraint("programme_id", "country", "region_key",
                         name="uq_partner_regions_region"),
    )


class PartnerShare(db.Model):
    """A partner's own share of a call's voucher-type envelope, with what its vouchers hold
    of it: kept by services/ledger.py beside the type's counters, and the CHECK makes the
    database refuse an award beyond the share, as for the envelope."""

    __tablename__ = "partner_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    call_voucher_type_id: Mapped[int] = mapped_column(ForeignKey("call_voucher_types.id"))
    envelope: Mapped[money]
    committed: Mapped[money] = mapped_column(default=Decimal("0.00"))

    partner: Mapped[Partner] = relationship(back_populates="shares")

    __table_args__ = (
        UniqueConstraint("partner_id", "call_voucher_type_id", name="uq_partner_shares_type"),
        CheckConstraint("envelope >= 0", name="share_not_negative"),
        CheckConstraint("committed >= 0 AND committed <= envelope",
                        name="committed_in_share"),
    )


class ExchangeRate(db.Model):
    """The Commission's InforEuro rate of a currency for one month."""

    __tablename__ = "exchange_rates"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    month: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    currency_name: Mapped[str] = mapped_column(String(80), default="")
    country: Mapped[str] = mapped_column(String(80), default="")
    units_per_eur: Mapped[Decimal] = mapped_column(exchange_rate)
    imported_at: Mapped[timestamp] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("year", "month", "currency", name="uq_exchange_rates_month"),
        CheckConstraint("units_per_eur > 0", name="rate_positive"),
        CheckConstraint("month >= 1 AND month <= 12", name="month_known"),
    )


class PartnerReport(db.Model):
    """One partner's report of a period. A draft reads its lines live from the ledger;
    submitting writes them (ExpenditureLine) with their rates, never to change again."""

    __tablename__ = "partner_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    number: Mapped[int]
    period_start: Mapped[date]
    period_end: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default=REPORT_DRAFT)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    submitted_at: Mapped[timestamp | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    partner: Mapped[Partner] = relationship()
    submitted_by: Mapped[User | None] = relationship()
    lines: Mapped[list[ExpenditureLine]] = relationship(
        back_populates="report", order_by="ExpenditureLine.position")

    __table_args__ = (
        UniqueConstraint("partner_id", "number", name="uq_partner_reports_number"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        CheckConstraint(f"status IN {PARTNER_REPORT_STATUSES!r}", name="status_known"),
        CheckConstraint("status = 'draft' OR submitted_at IS NOT NULL",
                        name="submitted_has_time"),
    )


class ExpenditureLine(db.Model):
    """One line of a submitted list of expenditure, in the shape Jems asks for. Each
    ledger movement is declared once (the unique key), a correction in a later period."""

    __tablename__ = "expenditure_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("partner_reports.id"), index=True)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    position: Mapped[int]
    cost_category: Mapped[str] = mapped_column(String(60))
    internal_reference: Mapped[str] = mapped_column(String(60))
    invoice_number: Mapped[str] = mapped_column(String(60), default="")
    invoice_date: Mapped[date | None]
    paid_on: Mapped[date]
    description: Mapped[str] = mapped_column(Text, default="")
    total_value: Mapped[money]
    vat: Mapped[money] = mapped_column(default=Decimal("0.00"))
    declared_amount: Mapped[money]
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(exchange_rate)
    declared_eur: Mapped[money]

    report: Mapped[PartnerReport] = relationship(back_populates="lines")

    __table_args__ = (
        CheckConstraint("rate > 0", name="rate_positive"),
        Index("ix_expenditure_lines_report_position", "report_id", "position"),
    )


@event.listens_for(ExpenditureLine, "before_update")
@event.listens_for(ExpenditureLine, "before_delete")
def _lines_are_frozen(mapper, connection, target):
    raise RuntimeError("a submitted list of expenditure is frozen: correct it in the next period")
