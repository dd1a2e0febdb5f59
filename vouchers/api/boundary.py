"""The API's request boundary: every route under /api/v1 is registered through ``api_route``.

The API's twin of vouchers/boundary.py, with the same policy predicates and the same
loaders, so no permission is written twice. For every request it

1. finds who is asking: a bearer token (``Authorization: Bearer vt_...``, the account
   page makes them) or else the pages' session cookie; a bad token is a 401, never a
   silent fall back to the cookie;
2. refuses a change with a read-only token (403), or with the session cookie unless the
   request carries the page's CSRF token in ``X-CSRFToken`` (403): a cookie alone never
   changes anything, so another site cannot make the browser do it;
3. loads the URL's objects and asks the declared permission about the first of them,
   and whether each is within a partner manager's regions (404 for a signed-in user, as
   on the pages; 401 for an anonymous one);
4. calls the view, which calls one service, and commits once for a change; a service's
   DomainError is rolled back and answered as a problem document with the service's own
   message (vouchers/api/problems.py).

Input goes through the pages' own WTForms forms (``form=``): the JSON body is handed
to the form as its fields, so a rule and its message live in the form only. The
marshmallow schemas describe shapes for the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from flask import current_app, g, request
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms.validators import ValidationError

from .. import policy
from ..boundary import Loader, load_objects
from ..extensions import db
from ..input_checks import text_problem
from ..policy import Predicate, reaches
from ..services import api_tokens
from ..services.errors import DomainError, NotAllowed
from ..services.transaction import CONCURRENT_MESSAGE
from .problems import fail

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The error statuses every route may answer, documented on each (problem documents).
COMMON_ERRORS = (401, 404, 429)
CHANGE_ERRORS = (403, 409, 422)
BEARER = "bearer"
COOKIE = "cookie"


def identify() -> None:
    """Before every API request: who asks, and how (``g.api_via``, ``g.api_token``)."""
    header = request.headers.get("Authorization", "")
    g.api_token = None
    if not header:
        g.api_via = COOKIE if current_user.is_authenticated else None
        return
    kind, _, secret = header.partition(" ")
    if kind.lower() != BEARER:
        fail(401, "Send a personal access token as 'Authorization: Bearer <token>'.")
    token = api_tokens.authenticate(secret.strip())
    if token is None:
        fail(401, "The token is unknown, expired or revoked. Make a new one on your "
                  "account page.")
    g.api_token, g.api_via = token, BEARER
    # Flask-Login reads the request's user from here: the token's owner, for this
    # request only (nothing is written to the session).
    g._login_user = token.user
    if api_tokens.needs_touch(token):
        api_tokens.touch(token)
        db.session.commit()


def _may_change() -> None:
    if g.api_via == BEARER:
        if not g.api_token.writes:
            fail(403, "This token may only read. Make a token that reads and writes.")
        return
    if g.api_via == COOKIE:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (CSRFError, ValidationError):  # validate_csrf raises wtforms' own
            fail(403, "A change signed in with the session cookie needs the page's CSRF "
                      "token in the X-CSRFToken header; or use a personal access token.")


def form_data(body: Mapping[str, Any] | None, prefix: str = "") -> MultiDict:
    """The JSON body as a browser would post the page's form: a list of objects fills a
    FieldList of FormFields (``cost_lines-0-description``), an object a FormField
    (``address-city``), a list of values a multiple field; an upload stays a file."""
    data = MultiDict()

    def add(name: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for key, inner in value.items():
                add(f"{name}-{key}", inner)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                add(f"{name}-{index}" if isinstance(item, Mapping) else name, item)
        elif isinstance(value, FileStorage):
            data.add(name, value)
        else:
            data.add(name, "y" if value is True else "" if value is False else str(value))

    for key, value in (body or {}).items():
        add(f"{prefix}-{key}" if prefix else key, value)
    return data


def json_form(form: Callable[..., Any], body: Mapping[str, Any] | None, *,
              prefix: str = "", **objects) -> Any:
    """The pages' form, filled from the JSON body (see ``form_data``), validated; 422 with
    its field errors.

    ``form`` is a form class or a factory taking the loaded objects, as for the pages.
    """
    data = form_data(body, prefix)
    # The pages' forms never see such text (vouchers/input_checks.py refuses it first); a
    # JSON body is not checked there, and a NUL would reach PostgreSQL (a 500).
    broken = {name: [problem] for name, value in data.items(multi=True)
              if isinstance(value, str) and (problem := text_problem(value))}
    if broken:
        fail(422, "Correct the fields named in errors.", errors=broken)
    kwargs = {"formdata": data, "meta": {"csrf": False}}
    if prefix:
        kwargs["prefix"] = prefix
    bound = form(**kwargs) if isinstance(form, type) else form(**objects, **kwargs)
    if not bound.validate():
        # By the names the body uses: a field may post under another name than its
        # attribute (the workbook's date_from posts "from").
        posted = {name: field.name for name, field in bound._fields.items()}
        errors = {(posted.get(name, name).removeprefix(f"{prefix}-") if prefix
                   else posted.get(name, name)): list(messages)
                  for name, messages in bound.errors.items()}
        fail(422, "Correct the fields named in errors.", errors=_flat_errors(errors))
    return bound


def _flat_errors(errors: Mapping[str, list]) -> dict[str, list[str]]:
    """A FieldList's errors by each entry's field (``cost_lines.1.amount``), its own (a
    cap on the lines) by its name: ``errors`` stays {field: [messages]}, as documented."""
    flat: dict[str, list[str]] = {}
    for name, messages in errors.items():
        for index, message in enumerate(messages):
            if isinstance(message, Mapping):
                for field, inner in _flat_errors(message).items():
                    flat.setdefault(f"{name}.{index}.{field}", []).extend(inner)
            else:
                flat.setdefault(name, []).append(str(message))
    return flat


def api_route(bp, rule: str, *, permission: Predicate,
              load: Mapping[str, Callable[[str], Loader]] | None = None,
              methods: tuple[str, ...] = ("GET",), endpoint: str | None = None):
    """Register the decorated view on the API blueprint ``bp`` behind the boundary.

    Stack flask-smorest's ``@bp.arguments`` / ``@bp.response`` under this decorator:
    the view gets their parsed arguments first, then the loaded objects by keyword.
    """
    loaders = {key: make(key) for key, make in (load or {}).items()}
    changes = bool(set(methods) - SAFE_METHODS)

    def decorator(view):
        @wraps(view)
        def handle(*args, **url_args):
            if changes:
                _may_change()
            objects = load_objects(loaders, url_args)
            first = objects[next(iter(loaders))] if loaders else None
            if not permission(current_user, first):
                _refuse(f"{permission.__name__} on {first!r}")
            for key in loaders:
                if not reaches(current_user, objects[key]):
                    _refuse(f"{objects[key]!r} is outside {current_user!r}'s partner")
            if not changes:
                return _answer(view, args, objects)
            try:
                result = _answer(view, args, objects)
                db.session.commit()
            except NotAllowed as exc:
                db.session.rollback()
                _refuse(exc.message)
            except DomainError as exc:
                if exc.keeps_changes:
                    db.session.commit()
                else:
                    db.session.rollback()
                fail(exc.status, exc.message, headers=exc.headers)
            except (IntegrityError, StaleDataError):
                db.session.rollback()
                fail(409, gettext(CONCURRENT_MESSAGE))
            return result

        handle.permission = permission
        handle.changes = changes
        for status in COMMON_ERRORS + (CHANGE_ERRORS if changes else ()):
            handle = bp.alt_response(status, response=f"PROBLEM_{status}")(handle)
        security = [{"token": []}, {"session": []}]
        if permission is policy.can_visit:
            security.insert(0, {})  # anyone: no credential needed
        return bp.route(rule, methods=list(methods), endpoint=endpoint)(
            bp.doc(security=security)(handle))

    return decorator


def _answer(view, args, objects):
    try:
        return view(*args, **objects)
    except NotAllowed as exc:
        _refuse(exc.message)
    except DomainError as exc:
        if request.method in SAFE_METHODS:
            db.session.rollback()
            fail(exc.status, exc.message, headers=exc.headers)
        raise


def _refuse(reason: str) -> None:
    user = current_user.email if current_user.is_authenticated else "anonymous"
    current_app.logger.warning("API permission refused: %s %s for %s (%s)", request.method,
                               request.path, user, reason)
    if not current_user.is_authenticated:
        fail(401, "Sign in: send a personal access token as 'Authorization: Bearer <token>'.")
    fail(404)
