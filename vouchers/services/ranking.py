"""The ranked list of one call and voucher type (STUB: being built)."""

from __future__ import annotations

from ..models import Application


def position_of(application: Application):
    """Where the application stands in its ranking / on the reserve list, for its page."""
    return None
