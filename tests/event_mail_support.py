"""Helpers of the event-mail tests (tests/test_event_mail.py, tests/test_mail_digests.py):
the outbox rows an action queued, the parts of a delivered message, a manager's action
through its route."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import func, select

from tests.helpers import login
from vouchers.clock import programme_zone
from vouchers.extensions import db
from vouchers.models import OutboxMessage


def last_id() -> int:
    db.session.commit()
    return db.session.scalar(select(func.max(OutboxMessage.id))) or 0


def queued_after(mark: int) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id > mark).order_by(OutboxMessage.id)))


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def local(day, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=programme_zone())


def act(client, manager, application, action: str, **fields):
    """A manager's action through the application page's route."""
    login(client, manager)
    return client.post(f"/manage/applications/{application.id}/actions/{action}",
                       data={f"{action}-{k}": v for k, v in fields.items()})


def settle(deliver) -> int:
    """Send what the test's set-up queued, so the test sees only its own event's mail;
    the last outbox id so far (for queued_after)."""
    db.session.commit()
    deliver()
    return last_id()
