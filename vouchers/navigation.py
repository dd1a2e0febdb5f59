"""Navigation per role: each blueprint registers its own menu entries.

An entry shows only to users its page lets in: the permission the route declares (and its
blueprint's), asked as the boundary asks it of a page that loads nothing. So a partner
manager's menu has no link to what is the whole programme's (policy.can_run_programme).
"""

from flask import Flask, current_app, has_request_context, url_for
from flask_login import current_user

from .boundary import BLUEPRINT_PERMISSIONS

_ITEMS: dict[str, list[tuple[int, str, str]]] = {}


def nav_item(role: str, label: str, endpoint: str, order: int = 50) -> None:
    """Show ``label`` linking to ``endpoint`` in the menu of users with ``role``."""
    entries = _ITEMS.setdefault(role, [])
    if (order, label, endpoint) not in entries:
        entries.append((order, label, endpoint))
        entries.sort()


def may_open(endpoint: str) -> bool:
    """Whether the current user passes the permissions of ``endpoint`` (a page without
    URL arguments)."""
    view = current_app.view_functions.get(endpoint)
    guards = [BLUEPRINT_PERMISSIONS.get(endpoint.rpartition(".")[0]),
              getattr(view, "permission", None)]
    return view is not None and all(g(current_user, None) for g in guards if g is not None)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _navigation():
        if not has_request_context():  # an e-mail rendered by a command has no menu
            return {"nav_items": []}
        role = current_user.role if current_user.is_authenticated else "anonymous"
        return {"nav_items": [(label, url_for(endpoint)) for _, label, endpoint
                              in _ITEMS.get(role, []) if may_open(endpoint)]}
