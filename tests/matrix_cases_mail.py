"""Authorization-matrix cases of issue 10 (the outbox and mailbox page (the sender's part)); see
tests/matrix_cases.py.

``world_args`` gives the world of tests/test_authorization_matrix.py the URL arguments
this part's routes need (``users`` and ``args`` are the world's so far): ``outbox_id``,
a message the server refused for good, to the world's applicant: the managers see it
on the mailbox page and may send it again; nobody else reaches the page.
"""

from __future__ import annotations

import secrets

from tests.matrix_cases import Post, case, url
from vouchers.extensions import db
from vouchers.models import OutboxMessage, User
from vouchers.services import outbox


def _failed(to: str, recipient: User | None = None) -> OutboxMessage:
    """A message the sender gave up on (written as the sender leaves one, in its
    recipient's language)."""
    subject, text, html = outbox.render("password_changed",
                                        {"recipient": recipient, "recipient_address": to})
    message = OutboxMessage(
        kind="password_changed", to_address=to, subject=subject, body_text=text,
        body_html=html, user_id=recipient.id if recipient is not None else None,
        message_id=f"<{secrets.token_hex(8)}@matrix.invalid>", status="failed", attempts=1,
        last_error="The mail server refused the address: 550 5.1.1 No such user")
    db.session.add(message)
    db.session.commit()
    return message


def world_args(make, users: dict, args: dict) -> dict:
    return {"outbox_id": _failed(users["applicant"].email, users["applicant"]).id}


@case("manager.retry_mail")
def _(make):
    manager = make.manager()
    message = _failed("someone@world.example")
    return Post("manager", manager, url("manager.retry_mail", outbox_id=message.id),
                done=lambda: db.session.get(OutboxMessage, message.id).status == "pending")
