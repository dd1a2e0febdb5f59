"""Helpers shared by the page tests."""

from __future__ import annotations

import io


def login(client, user) -> None:
    """Log ``user`` in by setting the Flask-Login session (as a real login would)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        # As after the login's code step (vouchers/auth/second_factor.py): a manager
        # signed in here is not sent to enrol a second factor first.
        session["second_factor_passed"] = user.id


def second_factor_passed(client, user) -> None:
    """Mark a session signed in through the login form as past the code step, for a test
    of something else than two-factor sign-in whose manager has no second factor."""
    with client.session_transaction() as session:
        session["second_factor_passed"] = user.id


def snapshot() -> dict:
    """Every row of every table: an action that was refused must leave this unchanged.

    The test's own transaction ends first, so the rows are read as committed.
    """
    from vouchers.extensions import db

    db.session.commit()
    with db.engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(t.select()).all()), key=repr)
                for t in db.metadata.sorted_tables}


def count_queries(client, url: str) -> tuple[int, str]:
    """How many SQL statements a GET of ``url`` runs, and the page (which must answer 200)."""
    from sqlalchemy import event

    from vouchers.extensions import db

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


def logout(client) -> None:
    with client.session_transaction() as session:
        session.clear()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def office_zip(member: str = "[Content_Types].xml") -> bytes:
    """A minimal ZIP holding the member a docx/xlsx (or odt/ods: "mimetype") holds."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, "<Types/>")
    return buffer.getvalue()


def upload(client, application, content: bytes, name: str, purpose: str = "application",
           kind: str = "other", **kwargs):
    return client.post(
        f"/apply/applications/{application.id}/attachments",
        data={"purpose": purpose, "kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data", **kwargs,
    )


def at_once(app, jobs) -> list[str]:
    """Run each job in its own thread and app context, all released together at a barrier
    (never a sleep); their outcomes in the jobs' order: what each returned, "refused:
    <message>" for a DomainError, "error: ..." for anything else.

    A job may be a pair (load, act): ``load()`` runs before the barrier, as a request
    reads its page first, and ``act(loaded)`` after it, so a service's own checks must
    hold against a colleague's write in between. Each job's work is committed.
    """
    import threading

    from vouchers.extensions import db
    from vouchers.services.errors import DomainError

    pairs = [job if isinstance(job, tuple) else (lambda: None, lambda _, job=job: job())
             for job in jobs]
    barrier = threading.Barrier(len(pairs))
    outcomes = [""] * len(pairs)

    def run(n: int, load, act) -> None:
        with app.app_context():
            try:
                loaded = load()
                barrier.wait(timeout=30)
                outcomes[n] = act(loaded)
                db.session.commit()
            except DomainError as exc:
                outcomes[n] = f"refused: {exc.message}"
            except Exception as exc:  # noqa: BLE001 - the caller's assertions report it
                outcomes[n] = f"error: {exc!r}"
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n, *pair)) for n, pair in enumerate(pairs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def page_rules(app) -> list:
    """The URL map's rules of the pages: the API's (/api/v1) have a matrix of their own
    (tests/test_api_matrix.py), with tokens instead of sessions and problem documents
    instead of pages."""
    return [r for r in app.url_map.iter_rules() if not r.rule.startswith("/api/v1/")]
