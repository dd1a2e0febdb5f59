"""Error pages that tell the user what happened and what to do next."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    NotFound,
    RequestEntityTooLarge,
    TooManyRequests,
)

from .api import problems
from .extensions import db
from .services.errors import DomainError, NotAllowed


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # The errors without a page of their own (405, 401...): a problem document
        # under /api, werkzeug's own short page elsewhere.
        return problems.from_exception(exc) if problems.for_api() else exc

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        if problems.for_api():
            return problems.from_exception(exc)
        current_app.logger.warning("CSRF check failed: %s", exc.description)
        return render_template("errors/400.html", csrf=True), 400

    @app.errorhandler(BadRequest)
    def _bad_request(exc: BadRequest):
        if problems.for_api():
            return problems.from_exception(exc)
        return render_template("errors/400.html", csrf=False), 400

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        if problems.for_api():
            return problems.from_exception(exc)
        return render_template("errors/404.html"), 404

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):
        if problems.for_api():
            return problems.from_exception(exc)
        return too_large_page()

    @app.errorhandler(TooManyRequests)
    def _too_many(exc: TooManyRequests):
        if problems.for_api():
            return problems.from_exception(exc)
        response = current_app.make_response((render_template("errors/429.html"), 429))
        if getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(DomainError)
    def _refused(exc: DomainError):
        if problems.for_api():
            db.session.rollback()
            return problems.problem(404 if isinstance(exc, NotAllowed) else exc.status,
                                    None if isinstance(exc, NotAllowed) else exc.message,
                                    headers=exc.headers)
        # The boundary draws a refused POST on its own page; this is for a refusal met
        # while drawing a page (a GET), which must not become a server error.
        db.session.rollback()
        if isinstance(exc, NotAllowed):
            return render_template("errors/404.html"), 404
        page = render_template("errors/400.html", csrf=False, message=exc.message,
                               form_sent=request.method not in ("GET", "HEAD"))
        return page, exc.status, exc.headers

    @app.errorhandler(500)
    def _server_error(exc):
        # The failed transaction would make the page's own queries (the menu asks who is
        # logged in) fail too.
        db.session.rollback()
        if problems.for_api():
            return problems.problem(500)
        return render_template("errors/500.html"), 500


def carries_file() -> bool:
    """Whether the refused request was an upload (a multipart body), not a form of text.

    The body is too large to be read, so its Content-Type is all there is to go by.
    """
    return request.mimetype == "multipart/form-data"


def too_large_page():
    """The 413 page: a file too large, or a form whose text is more than the site takes."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return render_template("errors/413.html", upload=carries_file(), limit=limit), 413
