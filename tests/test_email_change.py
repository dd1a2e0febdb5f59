"""Changing the e-mail address: the current password, then the link mailed to the new
address; the old address hears of the change once it is made."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.account_links_support import GOOD_NEW, body, link_in, login, outbox_link, text
from tests.factories import PASSWORD
from tests.helpers import login as session_login
from vouchers.extensions import db
from vouchers.models import AccountToken, ChangeRecord, FailedLogin, OutboxMessage
from vouchers.models.base import utcnow
from vouchers.services import accounts, outbox

NEW_ADDRESS = "ada@new-home.example"
SENT = f"We sent a link to the new address, {NEW_ADDRESS}."


def ask(client, new_email=NEW_ADDRESS, password=PASSWORD):
    return client.post("/account/email", data={"new_email": new_email,
                                               "current_password": password})


def change_links(deliver, to=NEW_ADDRESS) -> list[str]:
    """The confirmation links of the requests delivered since the last call, after
    checking each request also told the present address."""
    messages = deliver()
    links = [link_in(m, "/account/email/") for m in messages
             if m["Subject"] == "Confirm your new e-mail address"]
    notices = [m for m in messages
               if m["Subject"] == "Someone asked to change your e-mail address"]
    assert len(links) == len(notices) and len(links) + len(notices) == len(messages)
    assert all(m["To"] != to for m in notices)
    return links


def change_link(deliver) -> str:
    [link] = change_links(deliver)
    return link


def test_the_account_menu_links_to_the_page(client, make):
    session_login(client, make.applicant())
    page = text(client.get("/apply/"))
    assert 'href="/account/email"' in page and 'href="/account/password"' in page
    assert "New e-mail address" in text(client.get("/account/email"))


def test_the_address_changes_once_the_new_address_confirms(app, client, make, deliver):
    user = make.applicant()
    old = user.email
    session_login(client, user)
    elsewhere = app.test_client()
    session_login(elsewhere, user)

    response = ask(client)
    assert response.status_code == 303
    assert SENT in text(client.get(response.headers["Location"]))
    path = change_link(deliver)  # to the new address only
    db.session.expire_all()
    assert user.email == old  # not before the link is followed

    page = client.get(path)
    assert page.status_code == 200 and NEW_ADDRESS in text(page)
    response = client.post(path)
    assert response.status_code == 303
    db.session.expire_all()
    assert user.email == NEW_ADDRESS and user.email_verified_at is not None
    # This browser stays logged in; the other session has ended.
    assert client.get("/account/password").status_code == 200
    assert elsewhere.get("/account/password").status_code == 302
    # The old address hears of it; the account's record keeps both.
    [notice] = deliver()
    assert notice["To"] == old and notice["Subject"] == "Your e-mail address was changed"
    assert NEW_ADDRESS in notice.get_body(("plain",)).get_content()
    record = db.session.scalars(select(ChangeRecord).where(
        ChangeRecord.action == "email_changed")).one()
    assert record.changes == {"email": [old, NEW_ADDRESS]} and record.actor_id == user.id
    # Logging in now takes the new address.
    client.post("/account/logout")
    assert login(client, old).status_code == 422
    assert login(client, NEW_ADDRESS).status_code == 303
    # The link worked once.
    assert app.test_client().get(path).status_code == 410


def test_a_wrong_password_is_refused_and_counted_like_a_failed_login(client, make, deliver):
    user = make.evaluator()
    session_login(client, user)
    response = ask(client, password="not-the-password")
    assert response.status_code == 422 and "Your current password is wrong." in text(response)
    assert deliver() == []
    assert db.session.scalar(select(func.count()).select_from(FailedLogin)
                             .where(FailedLogin.email == user.email)) == 1


def test_a_taken_address_is_not_revealed_when_asking_but_refused_when_confirming(
        client, make, deliver):
    other = make.user("applicant", email=NEW_ADDRESS.upper())
    user = make.applicant()
    session_login(client, user)
    response = ask(client)
    assert response.status_code == 303
    assert SENT in text(client.get(response.headers["Location"]))
    path = change_link(deliver)  # the same mail as for a free address
    response = client.post(path)
    assert response.status_code == 422
    assert f"Another account uses {NEW_ADDRESS} already" in text(response)
    db.session.expire_all()
    assert user.email != NEW_ADDRESS and other.email == NEW_ADDRESS.upper()
    assert deliver() == []


def test_a_newer_request_retires_the_older_link(client, make, deliver):
    user = make.applicant()
    session_login(client, user)
    ask(client, "typo@new-hme.example")
    ask(client)
    typo, right = change_links(deliver)
    assert client.post(typo).status_code == 410
    assert client.post(right).status_code == 303
    db.session.expire_all()
    assert user.email == NEW_ADDRESS


def test_the_link_expires_after_a_day_and_asking_is_limited(client, make, deliver):
    user = make.applicant()
    session_login(client, user)
    ask(client)
    path = change_link(deliver)
    row = db.session.scalars(select(AccountToken).where(
        AccountToken.purpose == "email_change")).one()
    assert row.expires_at - row.created_at == timedelta(hours=24)
    row.created_at, row.expires_at = row.created_at - timedelta(days=2), utcnow()
    db.session.commit()
    response = client.post(path)
    assert response.status_code == 410 and "expired" in text(response)
    assert 'href="/account/email"' in text(response)
    for n in range(3):
        assert ask(client, f"n{n}@x.example").status_code == 303
    response = ask(client, "n4@x.example")
    assert response.status_code == 422 and "Try again in an hour" in text(response)


def test_a_reset_link_sent_to_the_old_address_stops_working(client, make, deliver):
    user = make.applicant()
    client.post("/account/reset", data={"email": user.email})
    [reset] = deliver()
    reset_path = link_in(reset, "/account/reset/")
    session_login(client, user)
    ask(client)
    client.post(change_link(deliver))
    assert client.get(reset_path).status_code == 410
    db.session.expire_all()
    assert accounts.find_by_email(NEW_ADDRESS).id == user.id


# --- an intruder who knew the password -----------------------------------------------------

INTRUDER = "mallory@elsewhere.example"
NOTICE = "Someone asked to change your e-mail address"


def intruder_asks(app, user):
    """Someone who knows the password, in another browser, asks to move the address."""
    intruder = app.test_client()
    session_login(intruder, user)
    assert ask(intruder, INTRUDER).status_code == 303
    return intruder


def test_the_present_address_is_told_at_once_with_a_reset_link(app, client, make, deliver):
    user = make.applicant()
    intruder = intruder_asks(app, user)
    messages = {m["To"]: m for m in deliver()}
    assert messages.keys() == {INTRUDER, user.email}
    notice = messages[user.email]
    assert notice["Subject"] == NOTICE
    words = " ".join(body(notice).split())
    assert f"to {INTRUDER}" in words and "If it was not you, someone knows your password" in words
    change_path = link_in(messages[INTRUDER], "/account/email/")

    # The owner follows the notice's link and sets a new password: the change is stopped
    # and the intruder's session ends.
    reset_path = link_in(notice, "/account/reset/")
    assert client.post(reset_path, data={"password": GOOD_NEW, "confirm": GOOD_NEW}
                       ).status_code == 303
    assert intruder.get("/account/password").status_code == 302
    response = app.test_client().post(change_path)
    assert response.status_code == 410 and "no longer works" in text(response)
    db.session.expire_all()
    assert user.email != INTRUDER


@pytest.mark.parametrize("how", ["reset", "password change"])
def test_a_new_password_retires_a_pending_change(app, client, make, deliver, how):
    user = make.applicant()
    intruder_asks(app, user)
    [to_intruder] = [m for m in deliver() if m["To"] == INTRUDER]
    change_path = link_in(to_intruder, "/account/email/")
    if how == "reset":
        client.post("/account/reset", data={"email": user.email})
        [reset] = deliver()
        assert client.post(link_in(reset, "/account/reset/"),
                           data={"password": GOOD_NEW, "confirm": GOOD_NEW}).status_code == 303
    else:
        session_login(client, user)
        assert client.post("/account/password", data={
            "current_password": PASSWORD, "new_password": GOOD_NEW, "confirm": GOOD_NEW}
        ).status_code == 303
    assert app.test_client().post(change_path).status_code == 410
    db.session.expire_all()
    assert accounts.find_by_email(INTRUDER) is None


def test_mail_still_waiting_goes_to_the_new_address(app, client, make, deliver):
    user, other = make.applicant(), make.applicant()
    old = user.email
    session_login(client, user)
    ask(client)
    path = outbox_link(NEW_ADDRESS, "email_change", "/account/email/")

    def queue(to, status="pending"):
        row = outbox.queue("password_changed", to=to,
                           context={"changed_at": utcnow(), "by_reset": False})
        row.status = status
        if status == "sent":
            row.sent_at = utcnow()
        return row

    waiting, failed, sent, others = (queue(user), queue(user, "failed"), queue(user, "sent"),
                                     queue(other))
    db.session.commit()
    assert client.post(path).status_code == 303
    db.session.expire_all()
    assert (waiting.to_address, failed.to_address) == (NEW_ADDRESS, NEW_ADDRESS)
    assert (sent.to_address, others.to_address) == (old, other.email)
    # The messages about the change keep the address they were written for.
    kept = dict(db.session.execute(select(OutboxMessage.kind, OutboxMessage.to_address).where(
        OutboxMessage.kind.in_(("email_change_requested", "email_changed")))).all())
    assert kept == {"email_change_requested": old, "email_changed": old}


def test_asking_too_often_is_paused_in_its_own_words(client, make, deliver):
    user = make.evaluator()
    session_login(client, user)
    while (response := ask(client, password="not-the-password")).status_code == 422:
        pass
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "Too many requests from your network; try again in" in text(response)
    assert "attempts to log in" not in text(response)
    assert deliver() == []
