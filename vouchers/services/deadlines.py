"""Deadlines: a call's review deadline and each voucher's final-report deadline.

The report is due a call's ``report_due_days`` after the voucher's activity ends (the
trip's last day, the service's delivery date, else the call's implementation end, else
the award day). Overdue items are marked in every list; reminders (services/reminders.py)
go out once per deadline.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..models import Application


def activity_end(application: Application, awarded_on: date) -> date:
    """The day the voucher's activity ends, as far as the application says."""
    details = application.details or {}
    for key in ("end_date", "delivery_date"):
        value = details.get(key)
        if value:
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                continue
    return application.call.implementation_ends_on or awarded_on


def report_due_on(application: Application, awarded_on: date) -> date:
    """The final report's deadline, set when the voucher is awarded."""
    end = max(activity_end(application, awarded_on), awarded_on)
    return end + timedelta(days=application.call.report_due_days)
