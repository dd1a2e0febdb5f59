"""Throttling of failed logins per account and per address, counted in the database.

Flask-Limiter would keep its counters in process memory unless given Redis; this app
runs as several gunicorn workers on several machines sharing one PostgreSQL and keeps
no state in memory, so the failures are rows that every worker counts alike. Two
guesses racing through the check at the same instant may each get one more try; the
limit holds to within the number of workers, which is enough to stop guessing.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, select

from ..extensions import db
from ..models import FailedLogin
from ..models.base import utcnow
from ..services.errors import DomainError

DEFAULTS = {
    "LOGIN_MAX_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,
    "LOGIN_FAILURE_WINDOW_SECONDS": 15 * 60,
}


class LoginThrottled(DomainError):
    def __init__(self, retry_after: int):
        self.retry_after = max(1, retry_after)
        minutes = math.ceil(self.retry_after / 60)
        super().__init__(
            "Too many failed attempts to log in. To protect the account, logging in is "
            f"paused: try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )


def _setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def window() -> timedelta:
    return timedelta(seconds=_setting("LOGIN_FAILURE_WINDOW_SECONDS"))


def address_key(remote_addr: str | None) -> str:
    """The address to count failures against.

    An IPv6 user usually holds a whole /64, so counting single addresses there would
    let one attacker rotate through billions of them.
    """
    try:
        ip = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _normal(email: str) -> str:
    return email.strip().lower()[:254]


def _retry_after(condition: ColumnElement[bool], count: int, limit: int,
                 now: datetime) -> int:
    """Seconds until fewer than ``limit`` of the ``count`` recent failures remain."""
    since = now - window()
    freeing = db.session.scalar(
        select(FailedLogin.attempted_at)
        .where(condition, FailedLogin.attempted_at > since)
        .order_by(FailedLogin.attempted_at)
        .offset(count - limit)
        .limit(1)
    )
    if freeing is None:
        return int(window().total_seconds())
    return math.ceil((freeing + window() - now).total_seconds())


def check(email: str, address: str, now: datetime | None = None) -> None:
    """Raise LoginThrottled if this account or this address failed too often lately."""
    _check([(FailedLogin.email == _normal(email), _setting("LOGIN_MAX_FAILURES_PER_ACCOUNT")),
            (FailedLogin.address == address, _setting("LOGIN_MAX_FAILURES_PER_ADDRESS"))], now)


def check_address(address: str, now: datetime | None = None) -> None:
    """Raise LoginThrottled if this address failed too often lately (any account)."""
    _check([(FailedLogin.address == address, _setting("LOGIN_MAX_FAILURES_PER_ADDRESS"))], now)


def _check(limits: list[tuple[ColumnElement[bool], int]], now: datetime | None) -> None:
    now = now or utcnow()
    since = now - window()
    for condition, limit in limits:
        count = db.session.scalar(
            select(func.count()).select_from(FailedLogin)
            .where(condition, FailedLogin.attempted_at > since)
        )
        if count >= limit:
            raise LoginThrottled(_retry_after(condition, count, limit, now))


def record_failure(email: str, address: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    # Failures older than the window count for nothing; dropping them here keeps the
    # table as small as the attacks of the last minutes.
    db.session.execute(delete(FailedLogin).where(FailedLogin.attempted_at <= now - window()))
    db.session.add(FailedLogin(email=_normal(email), address=address[:64], attempted_at=now))
    db.session.flush()


def clear_account(email: str) -> None:
    """After a successful login the account's owner starts again from zero.

    The address's count stays: logging in to one's own account must not reset the
    count of guesses made at others from the same address.
    """
    db.session.execute(delete(FailedLogin).where(FailedLogin.email == _normal(email)))
