"""Evaluator assignments (with conflicts of interest) and blind reviews."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .applications import Application
from .base import money, timestamp, utcnow
from .people import User
from .programmes import Criterion

RECOMMENDATIONS = ("award", "waitlist", "reject")


class Assignment(db.Model):
    """An evaluator asked to review an application; a declared conflict takes it off."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[timestamp] = mapped_column(default=utcnow)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    conflict_declared_at: Mapped[timestamp | None]
    conflict_reason: Mapped[str] = mapped_column(Text, default="")
    # The evaluator confirmed they have no conflict: only then do they see the application.
    no_conflict_confirmed_at: Mapped[timestamp | None]
    # "manual", "auto" (auto-assign) or "divergence" (the extra evaluator of divergent scores).
    reason: Mapped[str] = mapped_column(String(20), default="manual")

    application: Mapped[Application] = relationship()
    evaluator: Mapped[User] = relationship(foreign_keys=[evaluator_id])

    __table_args__ = (
        UniqueConstraint("application_id", "evaluator_id", name="uq_assignments_app_evaluator"),
        Index("ix_assignments_evaluator", "evaluator_id", "conflict_declared_at"),
    )

    @property
    def has_conflict(self) -> bool:
        return self.conflict_declared_at is not None


class Review(db.Model):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    recommendation: Mapped[str] = mapped_column(String(10))
    # Weighted average of the scored criteria on the call's scale; "not applicable"
    # criteria are left out of the average rather than counted as zero.
    weighted_score: Mapped[money | None]
    submitted_at: Mapped[timestamp] = mapped_column(default=utcnow)
    # The application's submission_number this review judged; only the current one counts.
    version: Mapped[int] = mapped_column(default=1)

    application: Mapped[Application] = relationship()
    evaluator: Mapped[User] = relationship()
    scores: Mapped[list[ReviewScore]] = relationship(
        back_populates="review", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("application_id", "evaluator_id", "version",
                         name="uq_reviews_app_evaluator"),
        CheckConstraint(f"recommendation IN {RECOMMENDATIONS!r}", name="recommendation_known"),
        Index("ix_reviews_evaluator", "evaluator_id"),
    )


class ReviewScore(db.Model):
    __tablename__ = "review_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    # None means "not applicable".
    score: Mapped[int | None]

    review: Mapped[Review] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()

    __table_args__ = (
        UniqueConstraint("review_id", "criterion_id", name="uq_review_scores_review_criterion"),
        CheckConstraint("score IS NULL OR score >= 0", name="score_not_negative"),
    )


class Consensus(db.Model):
    """The score the evaluators agreed on for one version, recorded by a manager or the
    call's lead evaluator; ranking uses it instead of the evaluators' mean."""

    __tablename__ = "consensus"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    version: Mapped[int]
    weighted_score: Mapped[money | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[timestamp] = mapped_column(default=utcnow)

    recorded_by: Mapped[User] = relationship()
    scores: Mapped[list[ConsensusScore]] = relationship(
        back_populates="consensus", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("application_id", "version", name="uq_consensus_app_version"),
    )


class ConsensusScore(db.Model):
    __tablename__ = "consensus_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    consensus_id: Mapped[int] = mapped_column(ForeignKey("consensus.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    # None means "not applicable".
    score: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")

    consensus: Mapped[Consensus] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()

    __table_args__ = (
        UniqueConstraint("consensus_id", "criterion_id", name="uq_consensus_scores_criterion"),
        CheckConstraint("score IS NULL OR score >= 0", name="consensus_score_not_negative"),
    )
