"""Navigation per role: each blueprint registers its own menu entries."""

from flask import Flask, has_request_context, url_for
from flask_login import current_user

_ITEMS: dict[str, list[tuple[int, str, str]]] = {}


def nav_item(role: str, label: str, endpoint: str, order: int = 50) -> None:
    """Show ``label`` linking to ``endpoint`` in the menu of users with ``role``."""
    entries = _ITEMS.setdefault(role, [])
    if (order, label, endpoint) not in entries:
        entries.append((order, label, endpoint))
        entries.sort()


def init_app(app: Flask) -> None:
    @app.context_processor
    def _navigation():
        if not has_request_context():  # an e-mail rendered by a command has no menu
            return {"nav_items": []}
        role = current_user.role if current_user.is_authenticated else "anonymous"
        return {"nav_items": [(label, url_for(endpoint)) for _, label, endpoint
                              in _ITEMS.get(role, [])]}
