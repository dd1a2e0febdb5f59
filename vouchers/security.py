"""Response headers, session cookie settings and the error pages.

create_app() calls init_app() once; everything a browser is told about how to protect
the user is decided here.
"""

from __future__ import annotations

import os

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from . import errors

# Only the app's own files: no inline script or style, no plug-ins, no framing, and
# forms post only back to this site.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # frame-ancestors for current browsers, X-Frame-Options for the older ones.
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000"


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, marked Secure whenever the request came over HTTPS.

    SESSION_COOKIE_SECURE=1 forces it; without it a deployment that serves both a
    plain-HTTP development address and HTTPS still never sends the HTTPS cookie in clear.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")

    # Behind a reverse proxy, the client's address (which login throttling counts) and
    # the scheme (which decides the Secure flag) come from its X-Forwarded-* headers.
    # Trusted only when the operator says how many proxies stand in front.
    proxies = int(app.config.get("TRUSTED_PROXIES", os.environ.get("TRUSTED_PROXIES", "0")))
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,
                                x_host=proxies, x_port=proxies)

    @app.after_request
    def _security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        # Pages of a logged-in user hold private data: no shared or back-button caches.
        # Looked up only if the request already loaded the user, so static files cost
        # no database query.
        # is_anonymous, not is_authenticated: that one reads the account's enabled flag,
        # which a commit expired, costing a query after every change.
        user = g.get("_login_user")
        if (user is not None and not user.is_anonymous and request.endpoint != "static"
                and "Cache-Control" not in response.headers):
            response.headers["Cache-Control"] = "no-store"
        return response

    errors.init_app(app)
