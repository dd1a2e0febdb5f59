"""Errors of the API as RFC 9457 problem details (``application/problem+json``).

Every refusal the pages show as a message the API answers with the same words in
``detail``; field errors go in ``errors`` ({field: [messages]}). The app's error handlers
(vouchers/errors.py) call ``for_api()`` first, so a 404 or a 429 under /api is a problem
document and never an HTML page.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, NoReturn

from flask import Response, json, request
from werkzeug.exceptions import HTTPException

CONTENT_TYPE = "application/problem+json"
API_PREFIX = "/api/"


def for_api() -> bool:
    """Whether the request is the API's, so its errors are problem documents."""
    return request.path.startswith(API_PREFIX) and not request.path.startswith("/api/docs")


def problem(status: int, detail: str | None = None, *, errors: dict[str, list[str]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {"type": "about:blank", "title": phrase, "status": status,
                            "detail": detail or phrase, "instance": request.path}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, content_type=CONTENT_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    response.headers.update(headers or {})
    return response


class Problem(HTTPException):
    """Raised to answer with a problem document from anywhere inside an API request."""

    def __init__(self, status: int, detail: str | None = None, *,
                 errors: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None):
        self.code = status
        super().__init__(detail, response=problem(status, detail, errors=errors,
                                                  headers=headers))


def fail(status: int, detail: str | None = None, **kwargs) -> NoReturn:
    raise Problem(status, detail, **kwargs)


def _field_errors(messages: Any) -> dict[str, list[str]]:
    """webargs' {location: {field: [messages]}} flattened to {field: [messages]}."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "body", []).extend(value)
        else:
            flat.setdefault(prefix or "body", []).append(str(value))

    if isinstance(messages, dict):
        for location_messages in messages.values():
            walk("", location_messages)
    return flat


def from_exception(exc: HTTPException) -> Response:
    """The problem document for an HTTP error met in an API request."""
    if isinstance(exc, Problem) and exc.response is not None:
        return exc.response
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    headers = dict(data.get("headers") or {})
    if getattr(exc, "retry_after", None):
        headers["Retry-After"] = str(exc.retry_after)
    if "messages" in data:  # webargs: the body or the query did not match the document
        return problem(422, "Correct the fields named in errors.",
                       errors=_field_errors(data["messages"]), headers=headers)
    detail = exc.description if status < 500 and exc.description else None
    if status == 404:
        detail = "There is no such resource, or it is not yours to see."
    elif status == 405:
        detail = f"{request.method} is not allowed here."
    return problem(status, detail, headers=headers)
