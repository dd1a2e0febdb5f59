"""Messages on an application: the thread between its applicant and the programme's
managers, and the managers' internal notes.

A message is written once and never changed or deleted: the thread itself is the record
of what was said (no AuditRecord: a message changes no state). Each new message of the
thread is mailed to the other side in the same transaction (services/outbox.py): from
the applicant to every enabled manager, from a manager to the application's applicant.
Internal notes are mailed to nobody and shown only to managers: ``thread_of`` leaves them
out in the query for everyone else.

Files go through the same checks as an application's attachments (services/attachments.py:
the kinds by extension and first bytes, the size cap, random names under UPLOAD_FOLDER, a
new file removed again if its row is never committed).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from workflows.lifecycle import MANAGER

from .. import policy
from ..extensions import db
from ..input_checks import text_problem
from ..models import Application, ApplicationMessage, MessageAttachment, User
from . import accounts, outbox
from . import attachments as files
from .errors import InvalidInput, NotAllowed, TransitionNotAllowed
from .transaction import atomic
from .wording import number

MAX_BODY = 5_000
MAX_FILES = 5
# The e-mail to the applicant carries the message's beginning and a link to the thread:
# the answer belongs there, with its files, where the managers read it.
PREVIEW = 400


def clean_body(value: object, what: str = "message") -> str:
    """The text of a message (or a note: ``what``): line breaks kept (as \\n), 1 to
    MAX_BODY characters, no control characters."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    note = what == "note"
    if not text:
        raise InvalidInput(_("Write the note: it is empty.") if note
                           else _("Write the message: it is empty."))
    if len(text) > MAX_BODY:
        values = {"most": number(MAX_BODY), "count": number(len(text))}
        raise InvalidInput(
            _("Keep the note to at most %(most)s characters (it has %(count)s); write the "
              "rest in a second one or attach it as a file.", **values) if note else
            _("Keep the message to at most %(most)s characters (it has %(count)s); write the "
              "rest in a second one or attach it as a file.", **values))
    problem = text_problem(text)
    if problem:
        raise InvalidInput(
            _("The note %(problem)s; type it again without it.", problem=problem) if note
            else _("The message %(problem)s; type it again without it.", problem=problem))
    return text


def _chosen(uploads: Iterable) -> list:
    """The files actually chosen: a file input left empty sends one part with no name."""
    chosen = [u for u in (uploads or ()) if u is not None and getattr(u, "filename", "")]
    if len(chosen) > MAX_FILES:
        raise InvalidInput(_("Attach at most %(most)s files at once (%(count)s were chosen); "
                             "send the others in a second message.", most=MAX_FILES,
                             count=len(chosen)))
    return chosen


def _named(original: str, exc: InvalidInput) -> InvalidInput:
    """A file's refusal naming the file, so the sender knows which of several it was."""
    message = exc.message
    if original in message:
        return exc
    return InvalidInput(f"{original}: {message[0].lower()}{message[1:]}")


def _store(uploads: list) -> list[tuple[str, str, files.StoredFile]]:
    """Check every file's name and kind first, then copy each; on any refusal the copies
    already made are removed and nothing is kept."""
    checked = []
    for upload in uploads:
        original = files.sanitise_name(upload.filename)
        try:
            checked.append(files.checked_upload(upload))
        except InvalidInput as exc:
            raise _named(original, exc) from None
    stored: list[tuple[str, str, files.StoredFile]] = []
    try:
        for upload, (original, kind) in zip(uploads, checked, strict=True):
            try:
                stored.append((original, kind.content_type,
                               files.store_upload(upload, original, kind)))
            except InvalidInput as exc:
                raise _named(original, exc) from None
    except BaseException:
        for _name, _type, copy in stored:
            files.discard(copy.path)
        raise
    return stored


def _add(application: Application, author: User, body: str, uploads: Iterable,
         internal: bool) -> ApplicationMessage:
    text = clean_body(body, "note" if internal else "message")
    stored = _store(_chosen(uploads))
    try:
        with atomic():
            message = ApplicationMessage(application_id=application.id, author_id=author.id,
                                         body=text, internal=internal)
            message.application, message.author = application, author
            for original, content_type, copy in stored:
                message.attachments.append(MessageAttachment(
                    original_name=original, stored_name=copy.stored_name,
                    content_type=content_type, size=copy.size))
            db.session.add(message)
            db.session.flush()
            if not internal:
                _mail_the_other_side(message)
    except BaseException:
        for _name, _type, copy in stored:
            files.discard(copy.path)
        raise
    for _name, _type, copy in stored:
        files.remove_on_rollback(copy.path)
    return message


def post_message(application: Application, author: User, body: object,
                 uploads: Iterable = ()) -> ApplicationMessage:
    """A message of the thread, by the applicant or a manager, mailed to the other side."""
    if not policy.can_read_messages(author, application):
        raise NotAllowed("Only the applicant and the programme's managers write here.")
    if not policy.can_post_message(author, application):
        raise TransitionNotAllowed(_("Messages can be written once the application is "
                                     "submitted."))
    return _add(application, author, body, uploads, internal=False)


def post_internal_note(application: Application, author: User, body: object,
                       uploads: Iterable = ()) -> ApplicationMessage:
    """A note only managers see; it is mailed to nobody."""
    policy.ensure(policy.can_post_internal_note(author, application),
                  "Only the programme's managers write internal notes.")
    return _add(application, author, body, uploads, internal=True)


def thread_of(application: Application, viewer: User, *,
              internal: bool = False) -> list[ApplicationMessage]:
    """What ``viewer`` may read of ``application``, oldest first: the thread, or with
    ``internal`` the internal notes (for managers only; anyone else is refused).

    The query itself selects by ``internal``: a note never leaves the database for a
    page that is not a manager's.
    """
    allowed = (policy.can_read_internal_notes if internal else policy.can_read_messages)
    policy.ensure(allowed(viewer, application), "Not yours to read.")
    return list(db.session.scalars(
        select(ApplicationMessage)
        .where(ApplicationMessage.application_id == application.id,
               ApplicationMessage.internal.is_(internal))
        .options(joinedload(ApplicationMessage.author),
                 selectinload(ApplicationMessage.attachments))
        # In the order written; ix_application_messages_thread serves it.
        .order_by(ApplicationMessage.id)
    ))


def preview(text: str, length: int = PREVIEW) -> tuple[str, bool]:
    """The beginning of ``text`` (cut at a word, within ``length``) and whether it was cut."""
    if len(text) <= length:
        return text, False
    cut = text[:length]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > length // 2:  # a word to cut at, not a single very long "word"
        cut = cut[:space]
    return cut.rstrip() + " …", True


def _mail_the_other_side(message: ApplicationMessage) -> None:
    application = message.application
    text, cut = preview(message.body)
    context = {"message": message, "author": message.author, "preview": text, "cut": cut,
               "file_names": [f.original_name for f in message.attachments]}
    if message.author.role == MANAGER:
        recipients, kind = [application.applicant], "message_to_applicant"
    else:
        recipients, kind = accounts.enabled_managers(application), "message_to_managers"
    for user in recipients:
        outbox.queue(kind, to=user, context=context, application=application,
                     dedupe_key=f"message:{message.id}:{user.id}")
