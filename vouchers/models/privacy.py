"""What a person agreed to, and when: the privacy notice, the declarations of a submission,
publication in the list of operations. Append-only, like the audit trail: a withdrawn
consent is a new record, not an edit of the old one."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import timestamp, utcnow

CONSENT_KINDS = ("privacy_notice", "submission", "publication")


class ConsentRecord(db.Model):
    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id"))
    kind: Mapped[str] = mapped_column(String(20))
    # False records a refusal or a withdrawal (publication may be declined).
    given: Mapped[bool] = mapped_column(default=True)
    # The version of the text agreed to (the privacy notice's date, say).
    version: Mapped[str] = mapped_column(String(40), default="")
    at: Mapped[timestamp] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(f"kind IN {CONSENT_KINDS!r}", name="kind_known"),
        Index("ix_consent_records_user", "user_id", "id"),
        Index("ix_consent_records_application", "application_id"),
    )


@event.listens_for(ConsentRecord, "before_update")
@event.listens_for(ConsentRecord, "before_delete")
def _consents_are_append_only(mapper, connection, target):
    raise RuntimeError("consent records are append-only")
