"""Applications (a voucher once awarded), their cost lines, attachments and audit trail."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.lifecycle import STATES, VOUCHER_STATES

from .. import search
from ..extensions import db
from .base import money, str200, timestamp, utcnow
from .people import Organisation, User
from .programmes import Call, CallVoucherType, ServiceProvider

_voucher_states = tuple(sorted(VOUCHER_STATES))


class Application(db.Model):
    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    call_voucher_type_id: Mapped[int] = mapped_column(ForeignKey("call_voucher_types.id"))
    # Copied from the call voucher type so filters and the workbook need no join.
    voucher_type: Mapped[str] = mapped_column(String(30))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("service_providers.id"))
    title: Mapped[str200]
    summary: Mapped[str] = mapped_column(Text, default="")
    # The voucher type's own questions (travel: event, destination, dates; ...).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_amount: Mapped[money] = mapped_column(default=Decimal("0.00"))
    awarded_amount: Mapped[money | None]
    # What close-out or cancellation gave back to the envelope: awarded - released is
    # what the voucher holds (services/ledger.py keeps both counters with its entries).
    released_amount: Mapped[money] = mapped_column(default=Decimal("0.00"))
    paid_amount: Mapped[money] = mapped_column(default=Decimal("0.00"))
    state: Mapped[str] = mapped_column(String(20), default="draft")
    # Kept up to date when a review is submitted, so the table can sort 100,000 rows by it.
    weighted_score: Mapped[money | None]
    # Reviews of the current version (submission_number); earlier ones no longer count.
    review_count: Mapped[int] = mapped_column(default=0)
    # Each submission is a numbered version (ApplicationVersion); 0 until first submitted.
    submission_number: Mapped[int] = mapped_column(default=0)
    # The consensus score of the current version, where one is recorded: ranking uses it.
    consensus_score: Mapped[money | None]
    # The evaluators' totals are further apart than the call's divergence share allows.
    divergent: Mapped[bool] = mapped_column(default=False)
    # An eligibility rule fails without a manager's exception (services/eligibility.py).
    fails_rules: Mapped[bool] = mapped_column(default=False)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    submitted_at: Mapped[timestamp | None]
    awarded_at: Mapped[timestamp | None]
    decided_at: Mapped[timestamp | None]
    # Set at the award (services/deadlines.py): the final report is due by this day.
    report_due_on: Mapped[date | None]
    # The partner agency of the SME's region (services/partners.py keeps it), and the
    # currency the voucher's actual costs are reported and its payments made in (the
    # partner's). The planned cost lines stay in EUR, like the request they justify.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # The applicant agreed at submission that the voucher may appear in the public list
    # of operations (CPR Art. 49).
    publication_consent: Mapped[bool] = mapped_column(default=False)
    # Optimistic lock: two people firing transitions on one application cannot both win.
    version: Mapped[int] = mapped_column(default=1)
    # search.search_key(reference, title), what the table's text search looks in through
    # an index (vouchers/search.py; migration 0011 builds the index on each database).
    search_text: Mapped[str] = mapped_column(
        Text, default=search.key_default("reference", "title"), server_default="")

    call: Mapped[Call] = relationship()
    call_voucher_type: Mapped[CallVoucherType] = relationship()
    organisation: Mapped[Organisation] = relationship()
    applicant: Mapped[User] = relationship()
    provider: Mapped[ServiceProvider | None] = relationship()
    cost_lines: Mapped[list[CostLine]] = relationship(
        back_populates="application", order_by="CostLine.position", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="application", order_by="Attachment.uploaded_at",
        cascade="all, delete-orphan",
    )
    audit_records: Mapped[list[AuditRecord]] = relationship(
        back_populates="application", order_by="AuditRecord.id", viewonly=True
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"state IN {STATES!r}", name="state_known"),
        CheckConstraint("requested_amount >= 0", name="requested_not_negative"),
        CheckConstraint("paid_amount >= 0", name="paid_not_negative"),
        # A voucher holds an awarded amount; everything else holds none.
        CheckConstraint(
            f"(state IN {_voucher_states!r} AND awarded_amount IS NOT NULL "
            "AND awarded_amount > 0 AND awarded_at IS NOT NULL) "
            f"OR (state NOT IN {_voucher_states!r} AND state != 'cancelled' "
            "AND awarded_amount IS NULL) OR state = 'cancelled'",
            name="awarded_amount_matches_state",
        ),
        CheckConstraint("paid_amount <= COALESCE(awarded_amount, 0)", name="paid_within_awarded"),
        CheckConstraint("released_amount >= 0 AND released_amount <= COALESCE(awarded_amount, 0)",
                        name="released_within_awarded"),
        # Nothing reaches the SME that its voucher does not hold.
        CheckConstraint("paid_amount <= COALESCE(awarded_amount, 0) - released_amount",
                        name="paid_within_committed"),
        Index("ix_applications_call_state", "call_id", "state"),
        # Carries the date order and the organisation, so a type-and-state page, even with a
        # country filter, reads this index alone.
        Index("ix_applications_call_type_state", "call_id", "voucher_type", "state",
              "submitted_at", "id", "organisation_id"),
        # The id breaks ties in the table's sort, so a page reads from the index alone.
        Index("ix_applications_call_score", "call_id", "weighted_score", "id"),
        # The score too, so a search counting its scored matches reads no row (PostgreSQL).
        Index("ix_applications_call_submitted", "call_id", "submitted_at", "id",
              "weighted_score"),
        # A company's applications to a call by date: the country filter and the search by
        # company name read only this index.
        Index("ix_applications_organisation_call", "organisation_id", "call_id", "submitted_at",
              "id"),
        Index("ix_applications_applicant", "applicant_id"),
        Index("ix_applications_partner_state", "partner_id", "state"),
    )

    @property
    def total_costs(self) -> Decimal:
        return sum((line.amount for line in self.cost_lines), Decimal("0.00"))

    @property
    def committed_amount(self) -> Decimal:
        """What the voucher holds of its envelope: awarded less what was released."""
        return (self.awarded_amount or Decimal("0.00")) - self.released_amount

    @property
    def outstanding(self) -> Decimal:
        """Held and not paid yet: 0 once a voucher is closed."""
        return self.committed_amount - self.paid_amount


class CostLine(db.Model):
    __tablename__ = "cost_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str200]
    amount: Mapped[money]

    application: Mapped[Application] = relationship(back_populates="cost_lines")

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class Attachment(db.Model):
    """A file stored outside the web root under a random name."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    # "application" for quotes and CVs, "report" for the final report's evidence.
    purpose: Mapped[str] = mapped_column(String(20), default="application")
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    # What the document is (voucher_types.ATTACHMENT_KINDS): a call may require kinds.
    kind: Mapped[str] = mapped_column(String(30), default="other")
    size: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[timestamp] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="attachments")


class AuditRecord(db.Model):
    """Append-only: one row per state change (from, to, trigger, who, when, comment)."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[timestamp] = mapped_column(default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[money | None]

    application: Mapped[Application] = relationship(back_populates="audit_records")
    actor: Mapped[User | None] = relationship()


search.keep_in_step(Application, "search_text", "reference", "title")


@event.listens_for(AuditRecord, "before_update")
@event.listens_for(AuditRecord, "before_delete")
def _audit_is_append_only(mapper, connection, target):
    raise RuntimeError("audit records are append-only")


class ApplicationVersion(db.Model):
    """What the applicant submitted, frozen: one row per submission (numbered from 1)."""

    __tablename__ = "application_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    number: Mapped[int]
    submitted_at: Mapped[timestamp]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The fields, details, provider, cost lines and attachments as submitted.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        UniqueConstraint("application_id", "number", name="uq_application_versions_number"),
    )


class EligibilityOverride(db.Model):
    """A manager accepted an application that fails one eligibility rule, and said why."""

    __tablename__ = "eligibility_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    rule: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[timestamp] = mapped_column(default=utcnow)

    by: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("application_id", "rule", name="uq_eligibility_overrides_rule"),
    )
