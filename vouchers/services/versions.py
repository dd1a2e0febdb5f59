"""Numbered versions of an application, one per submission (STUB: being built)."""

from __future__ import annotations

from datetime import datetime

from ..models import Application, User


def record_submission(application: Application, actor: User | None, now: datetime) -> None:
    application.submission_number = (application.submission_number or 0) + 1


def versions_of(application: Application) -> list:
    """The application's versions, oldest first (for its page)."""
    return []
