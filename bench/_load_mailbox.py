"""The simulated applicants' mailbox (bench/_load_users.py), under gevent."""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path

import gevent
import psycopg
from gevent.lock import Semaphore


class Mailbox:
    """The applicant's mailbox: the message as the outbox holds it until it is sent, then
    the file the sender wrote (MAIL_BACKEND=file), whose bodies the outbox blanks."""

    _lock = Semaphore()
    _conn = None
    database = ""  # set by configure()
    folder = ""

    @classmethod
    def configure(cls, database: str, folder: str) -> None:
        cls.database, cls.folder = database, folder

    @classmethod
    def latest(cls, to: str, kind: str) -> tuple[int, str, str] | None:
        with cls._lock:
            if cls._conn is None:
                cls._conn = psycopg.connect(cls.database, autocommit=True)
            return cls._conn.execute(
                "SELECT id, status, body_text FROM outbox_messages WHERE to_address = %s "
                "AND kind = %s ORDER BY id DESC LIMIT 1", (to, kind)).fetchone()

    @classmethod
    def link(cls, to: str, kind: str, pattern: re.Pattern, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            row = cls.latest(to, kind)
            if row is not None:
                found = pattern.search(row[2]) or pattern.search(cls._file_text(row[0]))
                if found:
                    return found.group(0)
            gevent.sleep(0.1)
        raise RuntimeError(f"no {kind} mail to {to} within {seconds:.0f} s")

    @classmethod
    def _file_text(cls, outbox_id: int) -> str:
        path = Path(cls.folder) / f"{outbox_id}.eml"
        if not path.exists():
            return ""
        # The default policy decodes the body (quoted-printable would break the link).
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        part = message.get_body(preferencelist=("plain",)) or message
        return part.get_content()
