"""Uploaded files: quotes and CVs of an application, evidence of a final report.

Files live under UPLOAD_FOLDER (outside the web root) under random names; the name the
user gave is kept only for display and for the download's Content-Disposition. What a
file is gets decided by its extension AND its first bytes, never by the Content-Type
the browser sent, so a page of HTML renamed "quote.pdf" is refused.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from .. import policy
from ..extensions import db
from ..models import Application, Attachment, User
from ..voucher_types import ATTACHMENT_KINDS
from .errors import InvalidInput, NotAllowed, TransitionNotAllowed
from .transaction import atomic

PURPOSES = policy.ATTACHMENT_PURPOSES
MAX_FILES_PER_PURPOSE = 20
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024

_PDF = b"%PDF-"
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class FileKind:
    content_type: str
    magic: bytes
    # ZIP-based office files: a member every genuine file of the kind holds.
    zip_member: str | None = None


KINDS: dict[str, FileKind] = {
    "pdf": FileKind("application/pdf", _PDF),
    "png": FileKind("image/png", _PNG),
    "jpg": FileKind("image/jpeg", _JPEG),
    "jpeg": FileKind("image/jpeg", _JPEG),
    "docx": FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     _ZIP, "[Content_Types].xml"),
    "xlsx": FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     _ZIP, "[Content_Types].xml"),
    "odt": FileKind("application/vnd.oasis.opendocument.text", _ZIP, "mimetype"),
    "ods": FileKind("application/vnd.oasis.opendocument.spreadsheet", _ZIP, "mimetype"),
    "doc": FileKind("application/msword", _OLE),
    "xls": FileKind("application/vnd.ms-excel", _OLE),
}
ALLOWED_EXTENSIONS = tuple(KINDS)
ACCEPT = ",".join(f".{ext}" for ext in KINDS)

_STORED_NAME = re.compile(r"[0-9a-f]{48}")
# Characters that mean something to a file system or a shell, and control characters.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def max_file_bytes() -> int:
    """The per-file cap: MAX_ATTACHMENT_BYTES, never above the request cap."""
    cap = current_app.config.get("MAX_ATTACHMENT_BYTES") or DEFAULT_MAX_FILE_BYTES
    request_cap = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(cap, request_cap) if request_cap else cap


def describe_cap() -> str:
    return f"{max_file_bytes() / (1024 * 1024):.0f} MB"


def sanitise_name(name: str | None) -> str:
    """A display name that is safe in a header and in a page: no path, no control chars.

    Unlike werkzeug's secure_filename this keeps accents ("Offerte Überprüfung.pdf"):
    the name is never used to build a path.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name)
    name = " ".join(name.split())
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext.strip()[:10]
    stem = stem.strip(" .")[: 200 - len(ext) - 1]
    if not stem:
        stem = "attachment"
    return f"{stem}.{ext}" if ext else stem


def extension_of(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def path_of(attachment: Attachment) -> Path:
    """Where the file lives; built only from the random name the server chose."""
    name = attachment.stored_name
    if not _STORED_NAME.fullmatch(name):
        raise ValueError(f"unexpected stored name {name!r}")
    return upload_folder() / name[:2] / name


def attachments_of(application: Application, purpose: str) -> list[Attachment]:
    return list(db.session.scalars(
        select(Attachment)
        .where(Attachment.application_id == application.id, Attachment.purpose == purpose)
        .order_by(Attachment.uploaded_at, Attachment.id)
    ))


def _refusal(application: Application, user: User, purpose: str) -> str | None:
    """Why ``user`` may not change these files now, or None; the policy decides, this only
    words its answer."""
    if policy.can_change_attachments(user, application, purpose):
        return None
    if purpose not in PURPOSES:
        return _("Unknown kind of attachment.")
    if not policy.is_owner(user, application):
        return "Only the applicant who owns the application may change its files."
    if purpose == "application":
        return _("Files of the application can be changed only while it is a draft or "
                 "returned for changes.")
    return _("Evidence can be changed only while the final report is being written.")


def _check_allowed(application: Application, user: User, purpose: str) -> None:
    problem = _refusal(application, user, purpose)
    if problem is None:
        return
    if not policy.is_owner(user, application):
        raise NotAllowed(problem)
    if purpose not in PURPOSES:
        raise InvalidInput(problem)
    raise TransitionNotAllowed(problem)


def _matches(kind: FileKind, path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(len(kind.magic))
    if head != kind.magic:
        return False
    if kind.zip_member is None:
        return True
    try:
        with zipfile.ZipFile(path) as archive:
            return kind.zip_member in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _write_capped(stream: IO[bytes], target: Path, cap: int) -> int:
    """Copy ``stream`` to ``target`` (a new file); raise InvalidInput past ``cap`` bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise InvalidInput(_("The file is larger than the limit of %(limit)s.",
                                     limit=describe_cap()))
            out.write(chunk)
    return size


def checked_upload(upload) -> tuple[str, FileKind]:
    """The upload's display name and its kind by extension; InvalidInput when no file was
    chosen or its kind is not accepted. (Its first bytes are checked by store_upload.)"""
    if upload is None or not getattr(upload, "filename", ""):
        raise InvalidInput(_("Choose a file to upload."))
    original = sanitise_name(upload.filename)
    ext = extension_of(original)
    file_kind = KINDS.get(ext)
    if file_kind is None:
        raise InvalidInput(_("Upload a PDF, a PNG or JPEG image, or an office file "
                             "(%(kinds)s); .%(extension)s files are not accepted.",
                             kinds=", ".join(sorted(set(KINDS) - {"jpeg"})),
                             extension=ext or "?"))
    return original, file_kind


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    path: Path
    size: int


def store_upload(upload, original: str, file_kind: FileKind) -> StoredFile:
    """Copy the upload (checked by checked_upload) under a new random name in the upload
    folder, within max_file_bytes(), and check that its first bytes are of its kind.

    InvalidInput when it is too large, empty or not genuine; on any failure the file is
    gone again. The caller adds its row, then calls remove_on_rollback(path).
    """
    stored_name = secrets.token_hex(24)
    target = upload_folder() / stored_name[:2] / stored_name
    try:
        size = _write_capped(upload.stream, target, max_file_bytes())
        if size == 0:
            raise InvalidInput(_("The file is empty."))
        if not _matches(file_kind, target):
            raise InvalidInput(_("%(name)s is not a genuine .%(extension)s file.",
                                 name=original, extension=extension_of(original)))
    except BaseException:
        _unlink(target)
        raise
    return StoredFile(stored_name, target, size)


def remove_on_rollback(path: Path) -> None:
    """Should the request's transaction roll back after all, the new file goes with it."""
    db.session.info.setdefault(_REMOVE_ON_ROLLBACK, []).append(path)


def remove_on_commit(path: Path) -> None:
    """Delete a stored file once the request's transaction commits (its row was erased)."""
    db.session.info.setdefault(_REMOVE_ON_COMMIT, []).append(path)


def discard(path: Path) -> None:
    """Remove a stored file now (one whose row was never added); no error if it is gone."""
    _unlink(path)


def _check_room(application: Application, purpose: str) -> None:
    count = db.session.scalar(
        select(func.count()).select_from(Attachment)
        .where(Attachment.application_id == application.id, Attachment.purpose == purpose)
    )
    if count >= MAX_FILES_PER_PURPOSE:
        raise InvalidInput(_("At most %(count)s files can be attached; remove one first.",
                             count=MAX_FILES_PER_PURPOSE))


def _touch(application: Application) -> None:
    """The files are part of the application: changing them writes its row, so its version
    check refuses the change if the application moved on (say, was submitted) meanwhile."""
    flag_modified(application, "details")


def add_attachment(application: Application, user: User, upload, purpose: str,
                   kind: str = "other") -> Attachment:
    """Store an uploaded file (a werkzeug FileStorage) for ``application``; ``kind`` says
    what the document is (voucher_types.ATTACHMENT_KINDS: a call may require kinds)."""
    _check_allowed(application, user, purpose)
    if kind not in ATTACHMENT_KINDS:
        raise InvalidInput(_("Say what the document is, one of: %(kinds)s.",
                             kinds="; ".join(_(k) for k in ATTACHMENT_KINDS.values())))
    original, file_kind = checked_upload(upload)
    _check_room(application, purpose)

    stored = store_upload(upload, original, file_kind)
    stored_name, target, size = stored.stored_name, stored.path, stored.size
    try:
        with atomic():
            # Again under the lock: the application may have moved on while the file
            # was being copied.
            _check_allowed(application, user, purpose)
            _check_room(application, purpose)
            _touch(application)
            attachment = Attachment(
                application_id=application.id, purpose=purpose, original_name=original,
                stored_name=stored_name, content_type=file_kind.content_type, size=size,
                uploaded_by_id=user.id, kind=kind,
            )
            db.session.add(attachment)
    except BaseException:
        _unlink(target)
        raise
    remove_on_rollback(target)
    return attachment


def delete_attachment(attachment: Attachment, user: User) -> None:
    """Remove an attachment; its file is deleted once the removal is committed."""
    application = attachment.application
    _check_allowed(application, user, attachment.purpose)
    path = path_of(attachment)
    with atomic():
        _check_allowed(application, user, attachment.purpose)
        _touch(application)
        db.session.delete(attachment)
    db.session.info.setdefault(_REMOVE_ON_COMMIT, []).append(path)


# Files and rows must agree: a new file whose row is never committed is removed, and a
# file whose row is deleted is removed only once that deletion is committed.
_REMOVE_ON_ROLLBACK = "attachments.remove_on_rollback"
_REMOVE_ON_COMMIT = "attachments.remove_on_commit"


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


@event.listens_for(Session, "after_commit")
def _files_after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released, not the real commit
        return
    session.info.pop(_REMOVE_ON_ROLLBACK, None)
    for path in session.info.pop(_REMOVE_ON_COMMIT, []):
        _unlink(path)


@event.listens_for(Session, "after_transaction_end")
def _files_after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None:  # a SAVEPOINT: rows outside it stay, so do files
        return
    # Whatever ended the transaction (rollback, close, an error), it was not a commit:
    # after_commit has already taken the files of a committed one off these lists.
    session.info.pop(_REMOVE_ON_COMMIT, None)
    for path in session.info.pop(_REMOVE_ON_ROLLBACK, []):
        _unlink(path)
