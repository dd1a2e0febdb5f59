from . import messages, privacy, profile, surveys, views  # noqa: F401  (registers the routes)
from .blueprint import bp

__all__ = ["bp"]
