"""Who hears of what: one function per event, called by the service that makes it happen.

Each runs inside the caller's atomic() and queues its messages through outbox.queue, so
the e-mail is part of the change: a refused or rolled-back action tells nobody. The
templates are templates/mail/<kind>.txt and .html; vouchers/mail_kinds.py says which kinds
are urgent.
"""

from __future__ import annotations

from decimal import Decimal

from ..models import Application, Payment


def submitted(application: Application) -> None:
    """The submission receipt, to the applicant."""


def returned(application: Application, comment: str) -> None:
    """Returned for changes, with the manager's comment."""


def awarded(application: Application) -> None:
    """Awarded: the amount, the conditions and the report deadline."""


def rejected(application: Application, reason: str) -> None:
    """Rejected: the reason and the score summary."""


def waitlisted(application: Application) -> None:
    """On the reserve list, with its position."""


def report_returned(application: Application, comment: str) -> None:
    """The final report was returned, with the manager's comment."""


def report_approved(application: Application, payable: Decimal) -> None:
    """The final report was approved: the payable amount."""


def payment_made(payment: Payment) -> None:
    """A payment (advance or final) was recorded."""


def assigned(pairs: list[tuple[int, int]]) -> None:
    """Each evaluator hears once of their new assignments, given as (application id,
    evaluator id) pairs: an automatic assignment of thirty applications is one e-mail."""
