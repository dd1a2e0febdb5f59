"""SQLite's write lock is held only while a service writes (vouchers/database.py).

A request reads in a plain transaction, which in WAL mode blocks no one; atomic() takes
the write lock at the service's first write (ending the read-only snapshot with a
rollback, never a commit) and the boundary's commit gives it back. Another writer here
is a second connection that will not wait (timeout 0): if anyone held the lock it would
fail at once with "database is locked".
"""

from __future__ import annotations

import io
import sqlite3

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from tests.helpers import PDF
from vouchers.database import begin_write
from vouchers.extensions import db
from vouchers.models import Application, Attachment, Call, FailedLogin
from vouchers.services import accounts, applications, attachments, transitions
from vouchers.services.errors import TransitionNotAllowed
from vouchers.services.transaction import atomic

pytestmark = pytest.mark.usefixtures("sqlite_only")


@pytest.fixture
def sqlite_only(is_postgres):
    if is_postgres:
        pytest.skip("SQLite's database-wide write lock")


def another_writer_commits(call_id: int, title: str) -> None:
    """A writer on its own connection that refuses to wait for the lock."""
    conn = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE calls SET title = ? WHERE id = ?", (title, call_id))
        conn.execute("COMMIT")
    finally:
        conn.close()


def _title(call_id: int) -> str:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT title FROM calls WHERE id = :id"),
                            {"id": call_id}).scalar_one()


def test_an_open_read_transaction_of_the_apps_session_leaves_writers_free(make):
    call = make.call()
    assert db.session.get(Call, call.id).title  # the session now holds a read snapshot
    assert db.session().in_transaction()

    another_writer_commits(call.id, "Changed elsewhere")

    assert _title(call.id) == "Changed elsewhere"
    # The snapshot is still the one read before: it was never a writer's.
    assert db.session.scalar(select(Call.title).where(Call.id == call.id)) == call.title


def test_atomic_takes_the_lock_at_the_first_write_and_sees_the_latest_data(make):
    call = make.call()
    assert call.title == "Call 1"  # read before the other writer commits
    another_writer_commits(call.id, "Changed elsewhere")

    with atomic():
        # The read-only snapshot was ended: the check sees what is committed now.
        assert call.title == "Changed elsewhere"
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            another_writer_commits(call.id, "Too early")
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        another_writer_commits(call.id, "Still too early")  # held until the commit
    db.session.commit()
    another_writer_commits(call.id, "After the commit")
    assert _title(call.id) == "After the commit"


def test_begin_write_ends_a_read_only_snapshot_without_committing(make, monkeypatch):
    call = make.call()
    assert call.title
    commits = []
    monkeypatch.setattr(Session, "commit", lambda self: commits.append(self))
    begin_write(db.session)
    assert commits == []
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        another_writer_commits(call.id, "Locked out")


def test_begin_write_keeps_a_transaction_that_already_wrote(make):
    """A bulk UPDATE flushes nothing, yet it wrote: ending the transaction would commit or
    lose it."""
    call = make.call()
    db.session.execute(text("UPDATE calls SET title = 'Mine' WHERE id = :id"), {"id": call.id})
    begin_write(db.session)
    assert db.session.scalar(select(Call.title).where(Call.id == call.id)) == "Mine"
    db.session.rollback()
    assert _title(call.id) == "Call 1"  # it was neither committed nor ended


def test_a_login_does_not_hold_the_write_lock_while_it_hashes(client, make, monkeypatch):
    email, call_id = make.applicant().email, make.call().id
    hash_check = accounts.check_password_hash
    outcomes = []

    def check_while_another_writer_commits(stored, password):
        try:
            another_writer_commits(call_id, "Written during the hashing")
            outcomes.append("committed")
        except sqlite3.OperationalError as exc:
            outcomes.append(str(exc))
        return hash_check(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", check_while_another_writer_commits)
    response = client.post("/account/login", data={"email": email, "password": "wrong"})

    assert outcomes == ["committed"]
    assert response.status_code == 422
    assert _title(call_id) == "Written during the hashing"
    # The refused attempt itself was written afterwards, under the lock, and kept.
    assert db.session.scalar(select(db.func.count()).select_from(FailedLogin)) == 1


def test_two_read_then_write_services_do_not_deadlock(app, make):
    """Each session reads, then one writes and commits, then the other writes.

    Without ending the second's snapshot its write would find the database changed since
    it read, and SQLite would refuse it at once ("database is locked") however long the
    busy timeout.
    """
    first_id, second_id = (make.application("submitted").id for _ in range(2))
    with app.app_context():
        first = db.session.get(Application, first_id)
        assert first.state == "submitted"  # this session's snapshot begins here
        with app.app_context():
            second = db.session.get(Application, second_id)
            assert second.state == "submitted"
            transitions.withdraw(second, second.applicant)
            db.session.commit()
        transitions.withdraw(first, first.applicant)
        db.session.commit()
    db.session.rollback()  # this test's own snapshot predates both
    states = db.session.scalars(select(Application.state).order_by(Application.id)).all()
    assert states == ["withdrawn", "withdrawn"]


# --- the checks that decide a write run under the lock, on the latest data ---------------


def _submit_elsewhere(application_id: int) -> None:
    """Another writer (another request, another worker) submits the application."""
    conn = sqlite3.connect(db.engine.url.database, timeout=5, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE applications SET state = 'submitted', version = version + 1 "
                      "WHERE id = ?", (application_id,))
        conn.execute("COMMIT")
    finally:
        conn.close()


def _draft_read(make):
    owner = make.applicant()
    draft = make.draft(make.call().voucher_type("market_validation"), owner)
    assert draft.state == "draft"  # read in the session's (read) transaction
    return owner, draft


def test_an_edit_checked_against_a_draft_submitted_meanwhile_is_refused(make, monkeypatch):
    owner, draft = _draft_read(make)
    real = applications.types.period_problem

    def submitted_meanwhile(*args, **kwargs):  # after the checks, before the lock
        _submit_elsewhere(draft.id)
        return real(*args, **kwargs)

    monkeypatch.setattr(applications.types, "period_problem", submitted_meanwhile)
    title = draft.title
    with pytest.raises(TransitionNotAllowed, match="is submitted and can no longer be changed"):
        applications.update_draft(draft, owner, {"title": "Changed after the submit"})
    db.session.rollback()
    assert snapshot_after(draft.id) == ("submitted", title, 2)


def test_a_file_copied_while_the_draft_was_submitted_is_not_attached(make, monkeypatch):
    owner, draft = _draft_read(make)
    real = attachments._matches

    def submitted_while_copying(*args, **kwargs):
        _submit_elsewhere(draft.id)
        return real(*args, **kwargs)

    monkeypatch.setattr(attachments, "_matches", submitted_while_copying)
    upload = FileStorage(io.BytesIO(PDF), "quote.pdf", content_type="application/pdf")
    with pytest.raises(TransitionNotAllowed, match="only while it is a draft or returned"):
        attachments.add_attachment(draft, owner, upload, "application")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def snapshot_after(application_id: int):
    db.session.commit()
    return db.session.execute(select(Application.state, Application.title, Application.version)
                              .where(Application.id == application_id)).one()
