from . import messages, profile, views  # noqa: F401  (registers the routes)
from .blueprint import bp

__all__ = ["bp"]
