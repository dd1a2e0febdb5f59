"""Engine set-up that makes SQLite safe for concurrent writers."""

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

_IMMEDIATE = "sqlite_begin_immediate"
_WRITER = "sqlite_writer_transaction"
# sqlite3's count of rows changed on the connection, noted when a transaction begins.
_CHANGES_AT_BEGIN = "sqlite_total_changes_at_begin"


def configure_sqlite(engine: Engine) -> None:
    """Let a writing transaction on SQLite take the write lock when it begins.

    Python's sqlite3 driver does not begin a transaction on SELECT, so a
    read-check-write races; and two deferred transactions that both read and then
    write deadlock (one gets "database is locked" at once). Transactions that will
    write (see begin_write) therefore start with BEGIN IMMEDIATE, which serialises
    writers; reads start with a plain BEGIN and, with WAL, never wait for a writer.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get(_IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        connection.info[_CHANGES_AT_BEGIN] = _total_changes(connection)


def _total_changes(connection: Connection) -> int:
    return connection.connection.driver_connection.total_changes


def _wrote(session: Session) -> bool:
    """Whether the session's transaction has changed anything, flushed or not.

    SQLite's own count of changed rows answers for every statement sent (ORM flushes and
    bulk UPDATEs alike); rows changed and then undone by a savepoint still count, which
    errs on the safe side (the transaction is then kept, not ended).
    """
    if session.new or session.dirty or session.deleted:
        return True
    connection = session.connection()
    return _total_changes(connection) != connection.info.get(_CHANGES_AT_BEGIN)


def begin_write(session: Session) -> None:
    """Make the session's transaction a writer's (SQLite: BEGIN IMMEDIATE).

    atomic() calls this before a service's first write, so a request holds SQLite's
    write lock only from there to its commit, never while it hashes a password or
    copies a file. A request has usually read already (loading the objects, checking
    permissions) in a plain transaction: if that transaction has written nothing, it is
    ended with a rollback (for a transaction that wrote nothing the same as a commit,
    and no commit happens outside the request boundary) and a writer's transaction
    begun, so the checks the service makes next see the latest committed data. Every
    check that decides a write therefore belongs inside atomic(), after this: a check
    made on the earlier read would not see a change committed since (an edit checked
    against a draft that was submitted meanwhile; tests/test_write_lock.py). A
    transaction that has written something cannot restart: SQLite upgrades its lock at
    the next write instead (and refuses with "database is locked" if another writer
    committed since it began). PostgreSQL needs none of this: conditional updates and
    row versions do the work there.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.get_bind().dialect.name != "sqlite":
        return
    transaction = session.get_transaction()
    if transaction is not None:
        if session.info.get(_WRITER) is transaction or _wrote(session):
            return
        session.rollback()
    session.connection(execution_options={_IMMEDIATE: True})
    session.info[_WRITER] = session.get_transaction()

