"""The permissions of money (issue 9): payments, reversals, recoveries, batches, bank
details and the de minimis register.

Part of vouchers/policy.py, kept apart for size: that module re-exports every ``can_*``
here, and only it imports this.
"""

from __future__ import annotations

from typing import Any

from workflows import lifecycle

from .models import Application
from .policy import APPLICANT, _role, can_manage
from .policy_partners import can_run_programme


def can_reverse_payment(user: Any, payment: Any) -> bool:
    """A manager books a recorded payment back (the service refuses a second reversal)."""
    return can_manage(user, payment)


def can_record_recovery(user: Any, application: Application) -> bool:
    """Money comes back from a closed or cancelled voucher that was paid something."""
    return (can_manage(user, application) and application.paid_amount > 0 and application.state in (
        lifecycle.CLOSED_STATES | {lifecycle.CANCELLED}))


def can_manage_payments(user: Any, obj: Any = None) -> bool:
    """The payments due, SEPA batches and their execution: a batch pays every region's
    vouchers in EUR, so the lead partner's managers. (A partner manager records the
    payments of its vouchers one by one, in its currency.)"""
    return can_run_programme(user)


def can_edit_bank_details(user: Any, organisation: Any) -> bool:
    """The company's own applicants, or a manager, give its bank details."""
    if can_manage(user, organisation):
        return True
    return (_role(user, APPLICANT) and organisation is not None
            and user.organisation_id == organisation.id)


def can_decide_bank_change(user: Any, change: Any) -> bool:
    """Bank details changed after an award wait for a manager's confirmation."""
    return can_manage(user, change) and change.outcome is None


def can_export_register(user: Any, obj: Any = None) -> bool:
    """The de minimis register (CSV and workbook) is for the lead partner's managers."""
    return can_run_programme(user)
