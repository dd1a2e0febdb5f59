# One module per area of the manager's work; each adds its routes to the one blueprint.
from . import (  # noqa: F401
    applications,
    bank_changes,
    calls,
    consensus,
    dashboard,
    eligibility,
    jobs,
    mailbox,
    messages,
    money,
    organisations,
    partner_reports,
    partners,
    payments,
    privacy,
    providers,
    ranking,
    rates,
    register,
    users,
    versions,
    workbook,
)
from .blueprint import bp

__all__ = ["bp"]
