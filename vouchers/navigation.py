"""Navigation per role: each blueprint registers its own menu entries.

An entry shows only to users its page lets in: the permission the route declares (and its
blueprint's), asked as the boundary asks it of a page that loads nothing. So a partner
manager's menu has no link to what is the whole programme's (policy.can_run_programme).
"""

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import gettext
from flask_login import current_user

from .boundary import BLUEPRINT_PERMISSIONS

_ITEMS: dict[str, list[tuple[int, str, str]]] = {}


def nav_item(role: str, label: str, endpoint: str, order: int = 50) -> None:
    """Show ``label`` linking to ``endpoint`` in the menu of users with ``role``.

    ``label`` is the English text (or its ``lazy_gettext``): the menu shows it in the
    reader's language, looked up in the catalogues when the page is drawn."""
    entries = _ITEMS.setdefault(role, [])
    if (order, label, endpoint) not in entries:
        entries.append((order, label, endpoint))
        entries.sort()


def may_open(endpoint: str, user: Any = None,
             asked: dict[Callable, bool] | None = None) -> bool:
    """Whether ``user`` (by default the current user) passes the permissions of
    ``endpoint`` (a page without URL arguments). ``asked`` keeps the answers of the
    predicates already asked about the same user: a menu asks the same few many times."""
    view = current_app.view_functions.get(endpoint)
    if view is None:
        return False
    if user is None:
        user = current_user._get_current_object()
    asked = {} if asked is None else asked
    for guard in (BLUEPRINT_PERMISSIONS.get(endpoint.rpartition(".")[0]),
                  getattr(view, "permission", None)):
        if guard is not None:
            if guard not in asked:
                asked[guard] = guard(user, None)
            if not asked[guard]:
                return False
    return True


def _link(endpoint: str) -> str:
    """url_for(endpoint) for a page without URL arguments, built once per application
    root: every page asks for the same dozen menu links."""
    links = current_app.extensions.setdefault("navigation_links", {})
    key = (request.script_root, endpoint)
    if key not in links:
        links[key] = url_for(endpoint)
    return links[key]


def _translated(label) -> str:
    """A menu label in the request's language (a lazy string already is)."""
    return gettext(label) if isinstance(label, str) else str(label)


def init_app(app: Flask) -> None:
    @app.context_processor
    def _navigation():
        if not has_request_context():  # an e-mail rendered by a command has no menu
            return {"nav_items": []}
        # The user itself, not its proxy: every attribute read through current_user
        # looks the user up again.
        user = current_user._get_current_object()
        role = user.role if user.is_authenticated else "anonymous"
        asked: dict[Callable, bool] = {}
        return {"nav_items": [(_translated(label), _link(endpoint)) for _, label, endpoint
                              in _ITEMS.get(role, []) if may_open(endpoint, user, asked)]}
