"""Logs: one line per record, JSON in production, with the id of the request it belongs to.

Every request gets an id: the reverse proxy's X-Request-ID when a proxy is trusted
(TRUSTED_PROXIES > 0) and the value looks like an id, else a new one. It is put on every
log record made while the request runs (so a refusal, an error and the access line of one
request can be found together) and sent back in the X-Request-ID response header.

Each request ends with one access line: method, path, status, duration, user id and the
request id. The path never carries its query string, and a token in the URL (a password
reset link, an invitation) is replaced by the token's name.

LOG_FORMAT=json|text; unset, JSON when APP_ENV=production (``make serve``) and text
otherwise (``make run``, the tests), which a developer reads more easily.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect

ACCESS_LOGGER = "vouchers.access"
REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's id looks like (nginx's $request_id is 32 hex digits, others use UUIDs):
# anything else could forge log lines or fill them, and is replaced by a new id.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
NO_REQUEST = "-"


def json_formatter() -> logging.Formatter:
    """The JSON-lines formatter of the app's and gunicorn's logs (vouchers/gunicorn_conf.py)."""
    return JsonFormatter(JSON_FIELDS, timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger"})


def text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment of the record.

    gunicorn, click and pytest replace sys.stderr; a handler holding the stream it was
    created with would write into a closed or forgotten one.
    """

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _record_factory_with_request_id(factory):
    def make_record(*args, **kwargs):
        record = factory(*args, **kwargs)
        # Only a Flask request has an id; a CLI command's or gunicorn's records get "-".
        record.request_id = (g.get("request_id", NO_REQUEST) if has_request_context()
                             else NO_REQUEST)
        return record

    make_record.adds_request_id = True
    return make_record


def configure_root(log_format: str, level: str) -> None:
    """One handler on the root logger, in ``log_format``; calling again replaces it.

    The record factory (not a handler's filter) adds the request id, so every handler,
    gunicorn's and pytest's included, sees it.
    """
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "adds_request_id", False):
        logging.setLogRecordFactory(_record_factory_with_request_id(factory))
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StderrHandler):
            root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(json_formatter() if log_format == "json" else text_formatter())
    root.addHandler(handler)
    root.setLevel(level)


def log_format_of(app: Flask) -> str:
    chosen = (app.config.get("LOG_FORMAT") or os.environ.get("LOG_FORMAT", "")).strip().lower()
    if chosen in ("json", "text"):
        return chosen
    return "json" if app.config.get("APP_ENV") == "production" else "text"


def _request_id(proxy_trusted: bool) -> str:
    # Only a trusted proxy's header: a client could otherwise pick ids that collide with
    # other requests' and muddle an investigation.
    offered = request.headers.get(REQUEST_ID_HEADER, "")
    if proxy_trusted and SANE_REQUEST_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def _loggable_path() -> str:
    """The request's path without its query string and with URL tokens masked."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if name.endswith("token") and isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return path


def init_app(app: Flask) -> None:
    configure_root(log_format_of(app), os.environ.get("LOG_LEVEL", "INFO").upper())
    # Flask puts its own stderr handler on app.logger when the root has none at that
    # moment; the root's handler above is the one, so records are not written twice.
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
    access = logging.getLogger(ACCESS_LOGGER)
    proxy_trusted = int(app.config.get("TRUSTED_PROXIES",
                                       os.environ.get("TRUSTED_PROXIES", "0"))) > 0

    @app.before_request
    def _start_request():
        g.request_id = _request_id(proxy_trusted)
        g.request_started = time.perf_counter()

    def log_exception(exc_info) -> None:
        # Flask's own line names request.path, which may hold a token; the masked path.
        app.logger.error("Exception on %s [%s]", _loggable_path(), request.method,
                         exc_info=exc_info)

    app.log_exception = log_exception

    @app.after_request
    def _log_request(response):
        started = g.get("request_started")
        if started is None:  # a request refused before before_request ran
            return response
        response.headers[REQUEST_ID_HEADER] = g.request_id
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        # The user only if the request loaded it already: static files cost no query.
        # Its key from the identity map: after a commit, user.id (or is_authenticated)
        # would reload the expired row, one more query for every change.
        user = g.get("_login_user")
        identity = (inspect(user).identity
                    if user is not None and not user.is_anonymous else None)
        user_id = identity[0] if identity else None
        path = _loggable_path()
        access.info("%s %s %s %.1f ms user=%s", request.method, path, response.status_code,
                    duration_ms, user_id if user_id is not None else "-",
                    extra={"method": request.method, "path": path,
                           "status": response.status_code, "duration_ms": duration_ms,
                           "user_id": user_id})
        return response
