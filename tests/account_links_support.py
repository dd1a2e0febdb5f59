"""Helpers of the accounts-by-e-mail tests: reading the link out of a delivered e-mail."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.factories import PASSWORD

LINK = re.compile(r"https?://[^\s<>\"]+")
GOOD_NEW = "saffron-kettle-meadow-31"


def body(message) -> str:
    """The plain-text body of a received message."""
    return message.get_body(("plain",)).get_content()


def link_in(message, path_part: str) -> str:
    """The path of the one link in ``message`` that contains ``path_part``, after checking
    the plain text and the HTML carry the same one."""
    links = {u for u in LINK.findall(body(message)) if path_part in u}
    html = message.get_body(("html",)).get_content()
    assert links and links <= set(LINK.findall(html)), (links, html)
    [url] = links
    return urlsplit(url).path


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def login(client, email, password=PASSWORD, **kwargs):
    return client.post("/account/login", data={"email": email, "password": password}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def outbox_link(to: str, kind: str, path_part: str) -> str:
    """The path of the link in the newest ``kind`` message queued for ``to``, read from
    the outbox row before it is sent (for tests that run no sender)."""
    from sqlalchemy import select

    from vouchers.extensions import db
    from vouchers.models import OutboxMessage

    row = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.to_address == to, OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id.desc())).first()
    [url] = {u for u in LINK.findall(row.body_text) if path_part in u}
    return urlsplit(url).path
