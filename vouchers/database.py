"""Engine set-up that makes SQLite safe for concurrent writers."""

from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.exc import StaleDataError

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
    begun, so the checks the service makes next see the latest committed data. A
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
    versions = {}
    if transaction is not None:
        if session.info.get(_WRITER) is transaction or _wrote(session):
            return
        versions = _loaded_versions(session)
        session.rollback()
    session.connection(execution_options={_IMMEDIATE: True})
    session.info[_WRITER] = session.get_transaction()
    _check_versions(session, versions)


def _loaded_versions(session: Session) -> dict[type, dict[Any, int]]:
    """{model: {primary key: version}} of the versioned rows the session has read."""
    found: dict[type, dict[Any, int]] = {}
    for obj in list(session.identity_map.values()):
        state = inspect(obj)
        column = state.mapper.version_id_col
        if column is None:
            continue
        key = state.mapper.get_property_by_column(column).key
        if key in state.dict:  # loaded, not expired
            found.setdefault(state.mapper.class_, {})[state.identity[0]] = state.dict[key]
    return found


def _check_versions(session: Session, versions: dict[type, dict[Any, int]]) -> None:
    """Refuse to go on if a row read before the lock was changed by someone else since.

    Ending the read snapshot reloads every object, and with it its version: without this
    check the optimistic lock would compare against the new version and let a decision
    made on the old row (an edit checked against a draft that was submitted meanwhile)
    land. StaleDataError is what the ORM raises for the same case at a flush; atomic()
    turns it into a ConcurrentChange.
    """
    for model, by_id in versions.items():
        mapper = inspect(model)
        pk, version = mapper.primary_key[0], mapper.version_id_col
        current = dict(session.execute(
            select(pk, version).where(pk.in_(list(by_id)))).all())
        changed = [i for i, v in by_id.items() if current.get(i) != v]
        if changed:
            raise StaleDataError(
                f"{model.__name__} {changed[:5]} changed since it was read")
