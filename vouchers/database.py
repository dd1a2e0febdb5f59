"""Engine set-up that makes SQLite safe for concurrent writers."""

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

_IMMEDIATE = "sqlite_begin_immediate"


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
    """Start the session's transaction as a writer, if it has not started yet.

    On PostgreSQL this only begins the transaction; row locks and conditional
    updates do the rest. Called by the service layer and, for every unsafe HTTP
    method, before the request reads anything.
    """
    if isinstance(session, scoped_session):
        session = session()
    if not session.in_transaction():
        session.connection(execution_options={_IMMEDIATE: True})
