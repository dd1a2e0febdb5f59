"""The daily e-mails: a user's digest of the messages that waited for it, and the
managers' summary of what needs action.

Both are called by ``flask send-reminders`` (safe from cron every few minutes): each
recipient gets at most one of each per day of the programme's time zone (the dedupe key
names the day), and none before MAIL_DIGEST_HOUR o'clock local time (default 7), so
nobody's summary lands at midnight. A digest carries the waiting messages' subjects and
texts; the rows are then marked ``digested`` and point at it, so the sender never sends
them on their own. Each recipient's digest is its own savepoint: one that fails undoes
only itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..clock import local_date, programme_zone
from ..extensions import db
from ..links import external_url
from ..models import OutboxMessage, User
from ..models.base import utcnow
from ..policy_partners import can_run_programme, partner_scope
from . import accounts, bank_details, outbox
from .calls import calls_open_first
from .errors import ConcurrentChange
from .needs import calls_needing_action
from .transaction import atomic

DEFAULT_HOUR = 7
# The separator of a plain-text e-mail's footer (templates/mail/_base.txt).
_SIGNATURE = "\n-- \n"


@dataclass(frozen=True)
class DigestItem:
    subject: str
    text: str
    at: datetime


@dataclass(frozen=True)
class ActionLine:
    heading: str
    count: int
    url: str


@dataclass(frozen=True)
class CallLines:
    code: str
    title: str
    status: str
    items: list[ActionLine]


def due_today(now: datetime) -> bool:
    """Whether the day's digests may go out at ``now`` (local time past the hour)."""
    hour = int(current_app.config.get("MAIL_DIGEST_HOUR", DEFAULT_HOUR))
    return now.astimezone(programme_zone()).hour >= hour


def user_key(user_id: int, day: date) -> str:
    return f"digest:user:{user_id}:{day.isoformat()}"


def manager_key(user_id: int, day: date) -> str:
    return f"digest:manager:{user_id}:{day.isoformat()}"


def _digest_text(text: str) -> str:
    """A message's text as its digest shows it: without its footer (the digest has its
    own) and without the greeting ("Dear ...,": the digest greets once)."""
    body, sep, _ = text.rpartition(_SIGNATURE)
    body = (body if sep else text).strip()
    first, gap, rest = body.partition("\n\n")
    if gap and first.startswith("Dear ") and first.endswith(",") and "\n" not in first:
        body = rest[:1].upper() + rest[1:]
    return body


def send_user_digests(now: datetime | None = None) -> int:
    """Queue one ``digest`` for each user with messages waiting for it; how many."""
    now = now or utcnow()
    if not due_today(now):
        return 0
    day = local_date(now)
    o = OutboxMessage
    waiting: dict[int, list[OutboxMessage]] = defaultdict(list)
    for message in db.session.scalars(
            select(o).where(o.digest.is_(True), o.status == "pending",
                            o.user_id.is_not(None), o.created_at <= now)
            .order_by(o.user_id, o.created_at, o.id)):
        waiting[message.user_id].append(message)
    if not waiting:
        return 0
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(list(waiting)), User.enabled.is_(True)))}
    sent = 0
    for user_id, messages in waiting.items():
        user = users.get(user_id)
        if user is not None and _digest_of(user, messages, day, now):
            sent += 1
    return sent


def _digest_of(user: User, messages: list[OutboxMessage], day: date, now: datetime) -> bool:
    items = [DigestItem(m.subject, _digest_text(m.body_text), m.created_at)
             for m in messages]
    try:
        with atomic():
            digest = outbox.queue("digest", to=user, context={"messages": items, "day": day},
                                  dedupe_key=user_key(user.id, day), now=now)
            if digest is None:  # today's digest went out already: these wait for tomorrow
                return False
            db.session.flush()
            o = OutboxMessage
            ids = [m.id for m in messages]
            marked = db.session.execute(
                update(o).where(o.id.in_(ids), o.status == "pending", o.digest.is_(True))
                .values(status="digested", digest_message_id=digest.id)
                .execution_options(synchronize_session=False)).rowcount
            if marked != len(ids):
                # The user chose immediate mail meanwhile (services/mail_preferences.py):
                # the next run writes the digest of what still waits.
                raise ConcurrentChange(_("The waiting messages changed; the digest waits."))
    except ConcurrentChange:
        return False
    for m in messages:
        db.session.expire(m)
    return True


def manager_actions(now: datetime, viewer: Any = None) -> tuple[list[CallLines], int]:
    """What needs action (the manager's home: services/needs.py), as lines with links,
    and how many companies' new bank details wait for confirmation, as ``viewer`` (a
    manager, or None: the whole programme) sees them on the home page."""
    calls = []
    for actions in calls_needing_action(calls_open_first(now), now, viewer):
        items = [ActionLine(i.heading, i.count, _url(i.endpoint, i.args))
                 for i in actions.to_do]
        if items:
            calls.append(CallLines(actions.call.code, actions.call.title, actions.status,
                                   items))
    whole = viewer is None or can_run_programme(viewer)
    return calls, bank_details.pending_count() if whole else 0


def _url(endpoint: str, args: dict) -> str:
    args = dict(args)
    anchor = args.pop("_anchor", None)
    url = external_url(endpoint, **args)
    return f"{url}#{anchor}" if anchor else url


def send_manager_digests(now: datetime | None = None) -> int:
    """Queue one ``manager_digest`` for each enabled manager, once a day, when something
    needs action; how many."""
    now = now or utcnow()
    if not due_today(now):
        return 0
    day = local_date(now)
    managers = accounts.enabled_managers()
    done = set(db.session.scalars(select(OutboxMessage.dedupe_key).where(
        OutboxMessage.dedupe_key.in_([manager_key(m.id, day) for m in managers]))))
    managers = [m for m in managers if manager_key(m.id, day) not in done]
    if not managers:
        return 0
    # A partner manager's summary counts its partner's SMEs only: read once per partner.
    summaries: dict[int | None, tuple[list[CallLines], int]] = {}
    sent = 0
    for manager in managers:
        scope = partner_scope(manager)
        if scope not in summaries:
            summaries[scope] = manager_actions(now, manager)
        calls, bank_changes = summaries[scope]
        if not calls and not bank_changes:
            continue
        with atomic():
            if outbox.queue("manager_digest", to=manager,
                            context={"calls": calls, "bank_changes": bank_changes, "day": day},
                            dedupe_key=manager_key(manager.id, day), now=now) is not None:
                sent += 1
    return sent
