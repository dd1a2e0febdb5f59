"""Long work done off the request path: a workbook, a partner report, a payment file.

A row is the job as its requester sees it (what, how far, why it failed, the file when
ready). The work runs on RQ when REDIS_URL is set and in the web process otherwise
(vouchers/jobs/); either way this row is the one record the page reads, so a page never
depends on which backend ran it.
"""

from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import timestamp, utcnow
from .people import User

# queued: waits for a worker; running: a worker has it (progress in percent); done: its
# file is ready until expires_at; failed: error says why (a retry queues it again);
# expired: done, and its file has been removed.
JOB_STATES = ("queued", "running", "done", "failed", "expired")


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What to do (vouchers/jobs/kinds.py) and with what: ids and filters, never objects.
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # Shown on the page: what the job makes, e.g. "Workbook of HLS1".
    title: Mapped[str] = mapped_column(String(200))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    # The step under way while running; the reason while failed.
    message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    # The RQ job's id when it went through Redis; empty when it ran in-process.
    queue_id: Mapped[str] = mapped_column(String(64), default="")
    # The file, relative to the jobs folder (JOBS_FOLDER), and how it is offered.
    file_path: Mapped[str] = mapped_column(String(300), default="")
    filename: Mapped[str] = mapped_column(String(200), default="")
    mimetype: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[timestamp] = mapped_column(default=utcnow)
    started_at: Mapped[timestamp | None]
    finished_at: Mapped[timestamp | None]
    expires_at: Mapped[timestamp | None]

    requested_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(f"state IN {JOB_STATES!r}", name="state_known"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        CheckConstraint("state != 'done' OR file_path != ''", name="done_has_file"),
        # The expiry sweep reads the finished jobs by their expiry.
        Index("ix_jobs_state_expires", "state", "expires_at"),
    )

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state} {self.progress}%>"
