"""The API's blueprints: each asks who is calling before anything else, and shares one
rate limit per caller (per token, else per signed-in user, else per address)."""

from __future__ import annotations

from flask import current_app, g
from flask_login import current_user
from flask_smorest import Blueprint

from ..auth.throttle import request_address

DEFAULT_RATE_LIMIT = "600/minute"


def identify_once() -> None:
    """Who asks, asked once a request: by the rate limit's key or else the blueprint."""
    from .boundary import identify

    if "api_via" not in g:
        identify()


def rate_key() -> str:
    # Flask-Limiter asks for the key in the app's before_request, which runs before the
    # blueprint's: identify here, or every token would count as its address. A bad token
    # is a 401 before anything is counted.
    identify_once()
    token = g.get("api_token")
    if token is not None:
        return f"token:{token.id}"
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{request_address()}"


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint of the API, under /api/v1 + ``url_prefix``."""
    from . import API_PREFIX, limiter

    bp = Blueprint(f"api_{name}", import_name, url_prefix=API_PREFIX + url_prefix,
                   description=description)
    # Who asks comes first: the rate limit counts per token, and a bad token is a 401.
    bp.before_request(identify_once)
    limiter.shared_limit(_rate_limit, scope="api")(bp)
    return bp
