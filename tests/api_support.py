"""Helpers of the API tests: tokens for a user, and requests that carry them."""

from __future__ import annotations

from vouchers.extensions import db
from vouchers.services import api_tokens


def token_of(user, scope: str = "write", days: int = 30) -> str:
    """A new personal access token of ``user`` (committed), as its text."""
    _, secret = api_tokens.create(user, name=f"test {scope}", scope=scope, days=days)
    db.session.commit()
    return secret


def bearer(user, scope: str = "write") -> dict[str, str]:
    """The headers of an API request as ``user`` with a new token of ``scope``."""
    return {"Authorization": f"Bearer {token_of(user, scope)}"}


def is_problem(response, status: int) -> bool:
    """Whether ``response`` is a problem document (RFC 9457) with ``status``."""
    return (response.status_code == status
            and response.content_type == "application/problem+json"
            and response.json["status"] == status and bool(response.json["detail"]))
