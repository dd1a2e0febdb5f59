"""The permissions of mail and messages: the outbox page, an application's thread and its
internal notes.

Part of vouchers/policy.py, kept apart for size: that module re-exports every ``can_*``
here, and only it imports this.
"""

from __future__ import annotations

from typing import Any

from workflows import lifecycle

from .models import Application
from .policy import can_manage, is_owner
from .policy_partners import can_run_programme


def can_view_mailbox(user: Any, obj: Any = None) -> bool:
    """The outbox page: what was sent, what waits and what failed (bodies only in
    development, where mail goes to files); every region's mail, so the lead partner's."""
    return can_run_programme(user)


def can_retry_mail(user: Any, message: Any = None) -> bool:
    return can_run_programme(user) and (message is None or message.status == "failed")


def can_read_messages(user: Any, application: Application) -> bool:
    """The thread between the applicant and the managers: the owner and the managers.
    Evaluators judge the application as submitted and never see it."""
    return can_manage(user, application) or is_owner(user, application)


def can_post_message(user: Any, application: Application) -> bool:
    """Once submitted, either side may write; a draft has nobody to talk to yet."""
    return (can_read_messages(user, application)
            and application.state != lifecycle.DRAFT)


def can_read_internal_notes(user: Any, application: Application) -> bool:
    """Internal notes are for the programme's managers only."""
    return can_manage(user, application)


def can_post_internal_note(user: Any, application: Application) -> bool:
    return can_manage(user, application)


def can_download_message_file(user: Any, attachment: Any) -> bool:
    """A message's file goes with its message: an internal note's file only to managers."""
    message = attachment.message
    if message.internal:
        return can_read_internal_notes(user, message.application)
    return can_read_messages(user, message.application)


def can_download_note_file(user: Any, attachment: Any) -> bool:
    """The files of internal notes have a URL of their own, for managers only (a matrix
    row of their own: nobody else reaches them)."""
    return attachment.message.internal and can_download_message_file(user, attachment)
