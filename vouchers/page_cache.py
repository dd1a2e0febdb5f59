"""A short-lived cache of the public pages as an anonymous visitor sees them.

The home page with the open calls and the list of operations are the same for every
visitor who is not logged in, and they are what a deadline's crowd and the search engines
ask for most; drawing them takes a dozen queries. ``visitor_page`` keeps each such page
for PAGE_CACHE_SECONDS (5 by default; 0 turns the cache off) in Flask-Caching's store: a
SimpleCache in each process, or Redis (shared by every worker) when REDIS_URL is set.

What can never happen, and why:

- One user's page served to another: only a request with no session cookie and no
  remember-me cookie, from nobody logged in, reads or fills the cache. A logged-in user,
  or a visitor whose session holds anything (a flashed message, a form's CSRF token, a
  login in progress), gets the page drawn for them and never stored.
- A form's CSRF token or a flashed message stored: a page is kept only when drawing it
  left the session empty and unchanged and set no cookie. A page with a form puts its
  CSRF token in the session, so it is never kept.
- A stale figure for long: every commit that wrote something clears the cache of the
  process that made it (of every worker with Redis); elsewhere a page is at most
  PAGE_CACHE_SECONDS old. A call's new figures therefore show at once to the worker that
  recorded them and within 5 s everywhere.

Browsers and proxies get an ETag and ``Cache-Control: no-cache``: they may keep the page
but ask again each time, and a page that did not change answers 304 with no body.
``Vary: Cookie`` tells a shared proxy that a request with a cookie may get another page.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from flask import Flask, current_app, has_app_context, request, session
from flask_caching import Cache
from flask_login import current_user
from sqlalchemy import event

from .extensions import db
from .i18n import current_language

cache = Cache()

KEY_PREFIX = "vouchers:page:"
# The headers of a kept answer that describe its body; nothing else is stored.
KEPT_HEADERS = ("Content-Type", "Content-Disposition")
# Keep it, but ask again each time; a cookie may change the page.
VALIDATOR_HEADERS = (("Cache-Control", "no-cache"), ("Vary", "Cookie"))
_WROTE = "page_cache.wrote"
# Pages are kept under the number of writes seen so far: a write moves the number on
# (one INCR on Redis) instead of clearing the store, which on Redis lists every key of
# the database and would be paid by every commit that writes (a job's progress, a
# login's failure). Outliving the pages, it may expire: by then they are long gone.
GENERATION = "generation"
GENERATION_SECONDS = 3600


def init_app(app: Flask) -> None:
    redis_url = app.config.get("REDIS_URL", "")
    if app.config.get("PAGE_CACHE_SECONDS", 0) <= 0:
        app.config.setdefault("CACHE_TYPE", "NullCache")
    elif redis_url:
        app.config.setdefault("CACHE_TYPE", "RedisCache")
        app.config.setdefault("CACHE_REDIS_URL", redis_url)
    else:
        app.config.setdefault("CACHE_TYPE", "SimpleCache")
    app.config.setdefault("CACHE_KEY_PREFIX", KEY_PREFIX)
    cache.init_app(app)


def visitor_page(view):
    """Serve ``view``'s page from the cache to anonymous visitors without a session."""

    @wraps(view)
    def serve(**url_args):
        seconds = current_app.config.get("PAGE_CACHE_SECONDS", 0)
        if seconds <= 0 or not _anonymous_without_session():
            return view(**url_args)
        # A visitor's page is in their browser's language (vouchers/i18n.py).
        key = (f"{_read(GENERATION) or 0}:{current_language()}:"
               f"{request.host}{request.full_path}")
        kept = _read(key)
        if kept is None:
            response = current_app.make_response(view(**url_args))
            if not _may_keep(response):
                return response
            body = response.get_data()
            etag = hashlib.sha1(body, usedforsecurity=False).hexdigest()
            kept = (body, [*((name, response.headers[name]) for name in KEPT_HEADERS
                             if name in response.headers),
                           *VALIDATOR_HEADERS, ("ETag", f'"{etag}"')], etag)
            _write(key, kept, seconds)
        return _answer(kept)

    return serve


def _anonymous_without_session() -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    cookies = request.cookies
    if (current_app.config["SESSION_COOKIE_NAME"] in cookies
            or current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies):
        return False
    return not current_user.is_authenticated


def _may_keep(response) -> bool:
    # Drawing the page must have left nobody's state in it: no cookie set, nothing put
    # in the session (a CSRF token, a flashed message), a plain successful page.
    return (response.status_code == 200 and not response.direct_passthrough
            and "Set-Cookie" not in response.headers
            and not session.modified and not session)


def _answer(kept):
    body, headers, etag = kept
    response = current_app.response_class(body, headers=headers)
    if "If-None-Match" in request.headers:
        return response.make_conditional(request)  # 304 with no body when unchanged
    return response


def _read(key: str):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - a cache that is down must not take the page down
        current_app.logger.exception("page cache unreadable; drawing the page")
        return None


def _write(key: str, kept, seconds: int) -> None:
    try:
        cache.set(key, kept, timeout=seconds)
    except Exception:  # noqa: BLE001 - the page was drawn; not keeping it is harmless
        current_app.logger.exception("page cache unwritable")


def forget_pages() -> None:
    """Leave every kept page behind (after a change, so that the next visitor sees it)."""
    try:
        if cache.cache.inc(GENERATION) == 1:  # a new or expired count: give it its lifetime
            cache.set(GENERATION, 1, timeout=GENERATION_SECONDS)
    except Exception:  # noqa: BLE001 - the pages then expire on their own
        current_app.logger.exception("page cache could not be cleared")


@event.listens_for(db.session, "after_flush")
def _note_write(session, flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(db.session, "after_commit")
def _forget_after_write(session) -> None:
    if (session.info.pop(_WROTE, False) and has_app_context()
            and current_app.config.get("PAGE_CACHE_SECONDS", 0) > 0):
        forget_pages()


@event.listens_for(db.session, "after_rollback")
def _nothing_written(session) -> None:
    session.info.pop(_WROTE, None)
