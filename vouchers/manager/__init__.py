# One module per area of the manager's work; each adds its routes to the one blueprint.
from . import (  # noqa: F401
    applications,
    calls,
    dashboard,
    organisations,
    providers,
    users,
    workbook,
)
from .blueprint import bp

__all__ = ["bp"]
