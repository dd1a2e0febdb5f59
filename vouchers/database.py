"""Engine set-up that makes SQLite safe for concurrent writers."""

from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_sqlite(engine: Engine) -> None:
    """Every SQLite transaction begins with BEGIN IMMEDIATE.

    Python's sqlite3 driver does not begin a transaction on SELECT, so a
    read-check-write races, and two deferred transactions that both read and then
    write deadlock (one gets "database is locked" at once). Taking the write lock at
    BEGIN serialises writers; WAL keeps readers from blocking on them.
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
        connection.exec_driver_sql("BEGIN IMMEDIATE")
