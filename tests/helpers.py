"""Helpers shared by the page tests."""

from __future__ import annotations

import io


def login(client, user) -> None:
    """Log ``user`` in by setting the Flask-Login session (as a real login would)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def snapshot() -> dict:
    """Every row of every table: an action that was refused must leave this unchanged.

    The test's own transaction ends first, so the rows are read as committed.
    """
    from vouchers.extensions import db

    db.session.commit()
    with db.engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(t.select()).all()), key=repr)
                for t in db.metadata.sorted_tables}


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
