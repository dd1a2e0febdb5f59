"""Engine set-up that makes SQLite safe for concurrent writers."""

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

_IMMEDIATE = "sqlite_begin_immediate"
_WRITER = "sqlite_writer_transaction"
_FLUSHED = "transaction_with_flushed_changes"


@event.listens_for(Session, "after_flush")
def _remember_flushed_changes(session, _flush_context):
    # begin_write must not commit a transaction that already wrote something.
    session.info[_FLUSHED] = session.get_transaction()


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


def begin_write(session: Session) -> None:
    """Make the session's transaction a writer's (SQLite: BEGIN IMMEDIATE).

    Web requests with an unsafe method call this before they read anything. Other
    callers (CLI, scripts, tests, threads) reach it through the service layer, often
    after reading in a plain transaction: if nothing is pending, that read-only
    snapshot is ended and a writer's transaction begun, so the service's checks see the
    latest committed data. With changes pending it cannot restart, and SQLite upgrades
    the lock at the first write instead. PostgreSQL needs none of this: conditional
    updates and row versions do the work there.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.get_bind().dialect.name != "sqlite":
        return
    transaction = session.get_transaction()
    if transaction is not None:
        if session.info.get(_WRITER) is transaction:
            return
        if session.new or session.dirty or session.deleted or (
            session.info.get(_FLUSHED) is transaction
        ):
            return
        session.commit()
    session.connection(execution_options={_IMMEDIATE: True})
    session.info[_WRITER] = session.get_transaction()
