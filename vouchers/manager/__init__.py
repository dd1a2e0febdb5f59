# One module per area of the manager's work; each adds its routes to the one blueprint.
from . import applications, calls, dashboard, providers, users, workbook  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
