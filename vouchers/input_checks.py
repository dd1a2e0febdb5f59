"""Input no field may hold, refused for every route before anything else reads it.

Runs before the CSRF check, so a form with broken text gets this message and not "the
form was not sent from this site". What a field may hold beyond this (lengths, money,
dates) is the business of its form and its service.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote_to_bytes

from flask import Flask, render_template, request
from werkzeug.routing import IntegerConverter

from .models.base import MAX_ID

# Tab, line feed and carriage return are text; every other control character is not.
ALLOWED_CONTROLS = frozenset("\t\n\r")
# What werkzeug puts in place of bytes of a multipart field that are not UTF-8. (In a
# query string or a urlencoded body it keeps a broken escape such as "%FF" as those three
# characters, and a body with raw non-UTF-8 bytes reads as an empty form: both are found
# in the raw bytes by ``undecodable`` instead.)
REPLACEMENT = "\ufffd"
URLENCODED = "application/x-www-form-urlencoded"
# Paginated pages read ?page=N; beyond this no listing has rows, and a larger number
# would overflow the database's OFFSET.
MAX_PAGE = 1_000_000


class BoundedInt(IntegerConverter):
    """``<int:...>`` up to the largest id the database holds: larger ones answer 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    if REPLACEMENT in value:
        return "is not valid UTF-8 text"
    for ch in value:
        if unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS:
            return f"contains a control character (U+{ord(ch):04X})"
    return None


def undecodable(raw: bytes) -> str | None:
    """The name of the first field of a query string or urlencoded body that is not UTF-8.

    An empty name stands for bytes that are not UTF-8 even before percent-decoding.
    """
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    for pair in raw.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
    return None


def _raw_problem() -> tuple[str, str] | None:
    raws = [request.query_string]
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype == URLENCODED:
        # Cached, so the form is then parsed from these same bytes.
        raws.append(request.get_data(cache=True, parse_form_data=False))
    for raw in raws:
        name = undecodable(raw)
        if name is not None:
            return name, "is not valid UTF-8 text"
    return None


def _problem() -> tuple[str, str] | None:
    raw = _raw_problem()
    if raw is not None:
        return raw
    page = request.args.get("page")
    if page and not (page.isascii() and page.isdigit() and 1 <= int(page) <= MAX_PAGE):
        return "page", f"must be a page number from 1 to {MAX_PAGE:,}"
    sources = [request.args]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sources.append(request.form)
    for source in sources:
        for name, values in source.lists():
            for text in [name, *values]:
                problem = text_problem(text)
                if problem:
                    return name, problem
    return None


def init_app(app: Flask) -> None:
    """Call before CSRFProtect.init_app, so this check runs first."""
    app.url_map.converters["int"] = BoundedInt

    @app.before_request
    def _refuse_broken_text():
        found = _problem()
        if found is not None:
            name, problem = found
            field = f"The field \u201c{name}\u201d" if name else "The form"
            if name == "page" and request.args.get("page"):
                advice = "Go back to the list and choose a page from its page links."
            else:
                advice = ("Remove the character (it may have come with text pasted from "
                          "another program) and send the form again; nothing was saved.")
            message = f"{field} {problem}. {advice}"
            from .api.problems import for_api
            from .api.problems import problem as problem_document
            if for_api():  # the API answers a problem document, as documented: never a page
                return problem_document(422, message, errors={name or "body": [problem]})
            return render_template("errors/400.html", csrf=False, message=message,
                                   form_sent=request.method not in ("GET", "HEAD")), 400
        return None
