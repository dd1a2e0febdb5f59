"""Accounts by e-mail: resetting a forgotten password and changing the address.

Password reset. Asking for a link always gets the same answer, and both branches do the
same work: an address with an enabled account is mailed a link; any other address (no
account, or a disabled one) is mailed a notice saying so (``reset_no_account``). Either
way one message is rendered and queued, at most ``RESETS_PER_HOUR`` an hour to one
address (counted in the outbox, by the same query), no password is hashed, and the
request counts against the requester's address like a failed login
(logins.RESET_PROBE), so nobody can test many addresses. A new request does not retire
the earlier links: mail may arrive late or out of order, and the link the user clicks
first must work; there are at most three, each for an hour, all going to the same
mailbox. Setting the password through one retires the others and any pending address
change or verification link, ends every session, lifts the login throttle (the
FailedLogin rows of the address: whoever reads the mailbox has proved to be the owner)
and tells the owner.

Changing the address needs the current password (throttled like a login) and the link
mailed to the new address; the current address is told at once, with a reset link, so an
intruder who knew the password cannot move the account away unnoticed: resetting (or
changing) the password retires the pending change. Whether the new address already has
an account is never said at request time: the link is sent as usual and the confirmation
refuses the change, so only whoever reads that mailbox learns it (and they could learn it
from a reset anyway). A newer request retires the older links: each went to a different
address, and a typo's owner must not be able to confirm it. Once confirmed, the address
changes, sessions end (the view keeps the current one), the links mailed to the old
address stop working, mail still waiting for the account goes to the new address, and
the old address hears of the change.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, update
from werkzeug.security import generate_password_hash

from ..extensions import db
from ..models import FailedLogin, OutboxMessage, User
from ..models.base import utcnow
from . import accounts, logins, outbox
from .account_tokens import (
    EMAIL_CHANGE,
    RESET,
    VERIFY,
    Link,
    LinkGone,
    claim,
    find,
    issue,
    issued_since,
    lifetime_text,
    mailed_since,
    problem,
    retire,
)
from .errors import InvalidInput
from .passwords import password_problem
from .transaction import atomic

RESETS_PER_HOUR = 3
EMAIL_CHANGES_PER_HOUR = 3
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def reset_link(token: str) -> Link:
    return find(token, RESET)


def verify_link(token: str) -> Link:
    return find(token, VERIFY)


def email_change_link(token: str) -> Link:
    return find(token, EMAIL_CHANGE)


def _hash_new(password: str, user: User) -> str:
    reason = password_problem(password, email=user.email, name=user.name)
    if reason:
        raise InvalidInput(reason)
    return generate_password_hash(password)


# --- resetting a forgotten password ------------------------------------------------------


def request_reset(email: str, address: str, now: datetime | None = None) -> None:
    """Mail a reset link to ``email`` if an enabled account has it, else a notice that
    none can be sent; the same (silent) outcome for the requester. RequestsThrottled
    when this address asked or failed too often."""
    now = now or utcnow()
    logins.check_requests(address, now)
    logins.count_failure(logins.RESET_PROBE, address, now)
    email = email.strip()
    if not EMAIL_PATTERN.fullmatch(email) or len(email) > 254:
        return  # the form refuses these; no account has such an address
    user = accounts.find_by_email(email)
    usable = user is not None and user.enabled
    kind, to = ("password_reset", user.email) if usable else ("reset_no_account",
                                                              email.lower())
    if mailed_since(kind, to, now - timedelta(hours=1)) >= RESETS_PER_HOUR:
        current_app.logger.warning("password reset for %s from %s: %s mails this hour, no "
                                   "more", to, address, RESETS_PER_HOUR)
        return
    with atomic():
        if usable:
            row, token = issue(user, RESET, address=address, now=now)
            outbox.queue(kind, to=user, now=now, context={
                "token": token, "expires_at": row.expires_at,
                "lifetime": lifetime_text(RESET), "requested_from": address})
        else:  # a bare address: no account is named in the message's row
            outbox.queue(kind, to=to, now=now, context={
                "disabled": user is not None, "requested_from": address})
    current_app.logger.info("password reset for %s (asked from %s): %s mailed", to, address,
                            kind)


def reset_password(link: Link, password: str, now: datetime | None = None) -> User:
    """Set a new password through a reset link; every session of the account ends."""
    now = now or utcnow()
    reason = problem(link, now)
    if reason:
        raise LinkGone(reason)
    user = link.user
    new_hash = _hash_new(password, user)  # hashed before atomic() takes the write lock
    with atomic():
        claim(link, now)
        # The other reset links, and an address change asked by whoever knew the old
        # password; the address is confirmed, so its verification links are done with.
        for purpose in (RESET, EMAIL_CHANGE, VERIFY):
            retire(user, purpose, now)
        user.password_hash = new_hash
        if user.email_verified_at is None:  # reading the mail proved the address
            user.email_verified_at = now
        accounts.end_sessions(user)
        # A completed reset lifts the login throttle of the account.
        db.session.execute(delete(FailedLogin)
                           .where(FailedLogin.email == user.email.strip().lower()[:254]))
        accounts.record_change(user, "password_reset", user,
                               {"password": ["(not shown)", "(set through a reset link)"]})
        outbox.queue("password_changed", to=user, now=now,
                     context={"changed_at": now, "by_reset": True})
    current_app.logger.info("password reset: %s (id %s)", user.email, user.id)
    return user


# --- changing the e-mail address ---------------------------------------------------------


def request_email_change(user: User, new_email: str, password: str, address: str,
                         now: datetime | None = None) -> str:
    """Mail a confirmation link to ``new_email``; returns the address it went to."""
    now = now or utcnow()
    new_email = new_email.strip()
    if not EMAIL_PATTERN.fullmatch(new_email) or len(new_email) > 254:
        raise InvalidInput(_("Give a valid e-mail address, like name@example.org."))
    try:
        logins.check(user.email, address, now)
    except logins.LoginThrottled as exc:
        raise logins.RequestsThrottled(exc.retry_after) from None
    if not accounts.verify_password(user, password):
        logins.count_failure(user.email, address, now)
        current_app.logger.warning("failed e-mail change: %s from %s", user.email, address)
        raise accounts.WrongPassword(_(accounts.WRONG_PASSWORD))
    if new_email.lower() == user.email.lower():
        raise InvalidInput(_("This is your address already."))
    with atomic():
        if issued_since(user, EMAIL_CHANGE, now - timedelta(hours=1)) >= EMAIL_CHANGES_PER_HOUR:
            raise InvalidInput(_("You asked %(count)s times in the last hour to change "
                                 "your address. Try again in an hour.",
                                 count=EMAIL_CHANGES_PER_HOUR))
        retire(user, EMAIL_CHANGE, now)
        row, token = issue(user, EMAIL_CHANGE, address=address, new_email=new_email, now=now)
        outbox.queue("email_change", to=new_email, account=user, now=now, context={
            "account": user, "new_email": new_email, "token": token,
            "expires_at": row.expires_at, "lifetime": lifetime_text(EMAIL_CHANGE)})
        # The present address hears of it at once, with a way to stop it: a reset
        # retires the change (reset_password).
        reset_row, reset_token = issue(user, RESET, address=address, now=now)
        outbox.queue("email_change_requested", to=user, now=now, context={
            "new_email": new_email, "requested_from": address, "token": reset_token,
            "expires_at": reset_row.expires_at, "lifetime": lifetime_text(RESET),
            "change_lifetime": lifetime_text(EMAIL_CHANGE)})
    current_app.logger.info("e-mail change of %s asked from %s", user.email, address)
    return new_email


def _taken_message(address: str) -> str:
    return _("Another account uses %(email)s already, so it cannot become the address of "
             "this one. Log in to that account instead, or ask to change to another address.",
             email=address)


# Messages about the change itself keep the address they were written for.
_ADDRESSED_ON_PURPOSE = ("email_change", "email_changed", "email_change_requested")


def _readdress_waiting_mail(user: User, old_email: str, new_email: str) -> None:
    """Mail of ``user`` not yet sent (waiting, or given up on and retried by a manager)
    goes to the new address (inside the change's atomic())."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.user_id == user.id, OutboxMessage.to_address == old_email,
               OutboxMessage.status.in_(("pending", "failed")),
               OutboxMessage.kind.not_in(_ADDRESSED_ON_PURPOSE))
        .values(to_address=new_email)
        .execution_options(synchronize_session=False)
    )


def confirm_email_change(link: Link, now: datetime | None = None) -> User:
    """Follow the link mailed to the new address: the account's address changes."""
    now = now or utcnow()
    reason = problem(link, now)
    if reason:
        raise LinkGone(reason)
    user, new_email = link.user, link.row.new_email
    old_email = user.email
    other = accounts.find_by_email(new_email)
    if other is not None and other.id != user.id:
        raise InvalidInput(_taken_message(new_email))
    with atomic(clashes={"uq_users_email_lower": _taken_message(new_email)}):
        claim(link, now)
        user.email = new_email
        user.email_verified_at = now
        # The links mailed to the old address no longer belong to its owner.
        for purpose in (RESET, VERIFY, EMAIL_CHANGE):
            retire(user, purpose, now)
        accounts.end_sessions(user)
        _readdress_waiting_mail(user, old_email, new_email)
        accounts.record_change(user, "email_changed", user, {"email": [old_email, new_email]})
        outbox.queue("email_changed", to=old_email, now=now, context={
            "account": user, "old_email": old_email, "new_email": new_email,
            "changed_at": now})
    current_app.logger.info("e-mail address changed: %s -> %s (id %s)", old_email, new_email,
                            user.id)
    return user
