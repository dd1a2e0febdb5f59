"""The request boundary: every route of the app is registered through ``route``.

Open this file first. A route declares what it loads from the URL, the permission it
needs (a predicate of vouchers/policy.py), its form and how its page is drawn; the view
itself only calls a service and says where to go next. For every request the boundary

1. loads the URL's objects (404 if one does not exist or does not belong to its parent),
2. asks the declared permission about the first of them (404, or the login page for an
   anonymous visitor, so a page's existence does not leak), and whether each of them is
   within a partner manager's regions (policy.reaches: 404 otherwise),
3. on GET draws the page (``render``) and never commits,
4. on POST validates the form (400 and the page again with the field errors), calls the
   view (which calls one service), and commits once; when a service refuses with a
   DomainError it rolls back and draws the page again with the message next to the action
   (status from the error: 422, 409 for a concurrent change; NotAllowed answers 404).

No view commits or rolls back; the AST test in tests/test_boundary.py holds that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from .extensions import db, login_manager
from .models.base import MAX_ID
from .policy import Predicate, reaches
from .services.errors import DomainError, NotAllowed
from .services.transaction import CONCURRENT_MESSAGE

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Blueprint name -> the permission every route of that blueprint needs as well.
BLUEPRINT_PERMISSIONS: dict[str, Predicate] = {}


@dataclass(frozen=True)
class Loader:
    """Turns the URL argument ``arg`` into an object, or None when there is none."""

    arg: str
    get: Callable[[Any, dict[str, Any]], Any]


def by_id(model: type, arg: str | None = None, *, belongs_to: str | None = None,
          name: str | None = None) -> Callable[[str], Loader]:
    """Load ``model`` by its id; with ``belongs_to``, only as a child of that object."""

    def make(key: str) -> Loader:
        def get(value: Any, loaded: dict[str, Any]) -> Any:
            if not isinstance(value, int) or not 0 < value <= MAX_ID:
                return None
            obj = db.session.get(model, value)
            if obj is not None and belongs_to is not None:
                parent = loaded[belongs_to]
                if getattr(obj, f"{belongs_to}_id") != parent.id:
                    return None
            return obj

        return Loader(arg or f"{name or key}_id", get)

    return make


def by(arg: str, get: Callable[[Any], Any]) -> Callable[[str], Loader]:
    """Load with ``get(value)``, say an invitation by its token."""
    return lambda key: Loader(arg, lambda value, loaded: get(value))


def refuse(reason: str, *, log_in: bool = False) -> None:
    """Log the refusal and answer 404; with ``log_in``, anonymous visitors are sent to the
    login page instead (for pages, not for objects whose existence must not leak)."""
    if log_in and not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    user = current_user.email if current_user.is_authenticated else "anonymous"
    current_app.logger.warning("permission refused: %s %s for %s (%s)", request.method,
                               request.path, user, reason)
    abort(404)


def guard_blueprint(bp: Blueprint, permission: Predicate) -> None:
    """Every route of ``bp`` needs ``permission`` too (so a new route cannot forget it)."""
    BLUEPRINT_PERMISSIONS[bp.name] = permission

    @bp.before_request
    def _check():
        if not permission(current_user, None):
            refuse(f"{bp.name} needs {permission.__name__}", log_in=True)


def see_other(endpoint: str, _anchor: str | None = None, **values) -> Response:
    """Redirect after a successful POST (303: the browser follows with a GET)."""
    return redirect(url_for(endpoint, _anchor=_anchor, **values), code=303)


def back_to(endpoint: str, message: str, category: str = "error", **values) -> Response:
    """Flash ``message`` and go back to ``endpoint``: how a list page shows a refusal."""
    flash(message, category)
    return see_other(endpoint, **values)


def route(bp: Blueprint, rule: str, *, permission: Predicate,
          load: Mapping[str, Callable[[str], Loader]] | None = None,
          form: Callable[..., Any] | None = None,
          render: Callable[..., ResponseReturnValue] | None = None,
          rework: Callable[[Any], bool] | None = None,
          before: Callable[..., Response | None] | None = None,
          methods: tuple[str, ...] | None = None,
          endpoint: str | None = None):
    """Register the decorated view on ``bp`` behind the boundary.

    - ``load``: keyword -> loader (``by_id(Application)``); the view and ``render`` get
      the objects by those keywords, with the other URL arguments.
    - ``permission``: ``can_<verb>(user, first loaded object or None)``.
    - ``form``: a form class, or a factory taking the loaded objects.
    - ``render(form=..., error=..., **objects)``: draws the page: on GET, when the form is
      invalid and when a service refuses. It may return a redirect instead.
    - ``rework(form)``: True for buttons that only rework the form ("Add a cost line"):
      the page is drawn again and nothing is saved.
    - ``before(**objects)``: a redirect when the page does not apply (say, no profile yet).
    - The view gets ``form`` (when there is one) and the objects, calls a service and
      returns the response of success, typically ``see_other(...)``.
    """
    loaders = {key: make(key) for key, make in (load or {}).items()}
    if methods is None:
        methods = ("GET", "POST") if form is not None else ("GET",)
    if render is None and set(methods) - SAFE_METHODS:
        raise TypeError(f"{rule}: a route that changes something needs render= to show a "
                        "refusal")

    def decorator(view: Callable[..., ResponseReturnValue]):
        @wraps(view)
        def handle(**url_args):
            objects = load_objects(loaders, url_args)
            # The first *loaded* object: plain URL arguments (a version number) come
            # before the loaded ones in ``objects``.
            first = objects[next(iter(loaders))] if loaders else None
            if not permission(current_user, first):
                refuse(f"{permission.__name__} on {first!r}", log_in=first is None)
            # Every loaded object, not only the first, within the user's partner scope.
            for key in loaders:
                if not reaches(current_user, objects[key]):
                    refuse(f"{objects[key]!r} is outside {current_user!r}'s partner")
            if before is not None and (early := before(**objects)) is not None:
                return early
            bound = _build_form(form, objects)
            if request.method in SAFE_METHODS:
                if render is not None and bound is not None:
                    return render(form=bound, **objects)
                return view(**objects)
            return _change(view, render, rework, bound, objects)

        handle.permission = permission
        bp.add_url_rule(rule, endpoint or view.__name__, handle, methods=list(methods))
        return handle

    return decorator


def load_objects(loaders: dict[str, Loader], url_args: dict[str, Any]) -> dict[str, Any]:
    """The URL's objects by keyword, the plain URL arguments first (404 if one is missing)."""
    objects = {k: v for k, v in url_args.items()
               if k not in {loader.arg for loader in loaders.values()}}
    for key, loader in loaders.items():
        obj = loader.get(url_args.get(loader.arg), objects)
        if obj is None:
            abort(404)
        objects[key] = obj
    return objects


def _build_form(form: Callable[..., Any] | None, objects: dict[str, Any]) -> Any:
    if form is None:
        return None
    return form() if isinstance(form, type) else form(**objects)


def _draw(render, bound, objects, status: int, error: str | None = None,
          headers: Mapping[str, str] | None = None) -> ResponseReturnValue:
    kwargs = {"form": bound} if bound is not None else {}
    result = render(error=error, **kwargs, **objects)
    if isinstance(result, Response):
        return result
    response = current_app.make_response(result)
    # The page's own status (a 429 it chose) wins over the boundary's default.
    if response.status_code == 200:
        response.status_code = status
    response.headers.update(headers or {})
    return response


def _change(view, render, rework, bound, objects) -> ResponseReturnValue:
    if bound is not None and rework is not None and rework(bound):
        return _draw(render, bound, objects, 200)
    if bound is not None and not bound.validate():
        return _draw(render, bound, objects, 400)
    kwargs = {"form": bound} if bound is not None else {}
    try:
        response = view(**kwargs, **objects)
        db.session.commit()
    except NotAllowed as exc:
        db.session.rollback()
        refuse(exc.message)
    except DomainError as exc:
        if exc.keeps_changes:
            db.session.commit()
        else:
            db.session.rollback()
        return _draw(render, bound, objects, exc.status, exc.message, exc.headers)
    except (IntegrityError, StaleDataError):
        # Services flush inside atomic(), which names these; this is the last line.
        db.session.rollback()
        return _draw(render, bound, objects, 409, gettext(CONCURRENT_MESSAGE))
    return response


__all__ = ["BLUEPRINT_PERMISSIONS", "MAX_ID", "back_to", "by", "by_id", "guard_blueprint",
           "load_objects", "refuse", "route", "see_other"]
