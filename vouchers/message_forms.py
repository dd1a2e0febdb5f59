"""The form of a message (or an internal note) and what the pages' partials draw.

Shared by the applicant's and the manager's pages (vouchers/applicant/messages.py,
vouchers/manager/messages.py): both blueprints give their templates ``message_panel``,
so templates/_messages.html and templates/manager/_internal_notes.html draw the thread
of the application they are shown for without the pages' own views knowing of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SubmitField, TextAreaField

from . import policy
from .models import Application, ApplicationMessage
from .services import messages
from .services.attachments import ACCEPT

# What each form is called in the page (its fields' prefix, the key of its error).
MESSAGE, NOTE = "message", "note"


class MessageForm(FlaskForm):
    """The text and its files; their rules (lengths, kinds, sizes) are the service's."""

    body = TextAreaField(lazy_gettext("Your message"),
                         render_kw={"rows": 6, "maxlength": messages.MAX_BODY})
    files = MultipleFileField(
        lazy_gettext("Files (optional)"), render_kw={"accept": ACCEPT},
        description=lazy_gettext("At most %(count)s files: PDF, PNG or JPEG images, or office "
                                 "files (docx, xlsx, odt, ods, doc, xls).",
                                 count=messages.MAX_FILES))
    send = SubmitField(lazy_gettext("Send"))


def message_form(name: str) -> MessageForm:
    """The form named ``name``; on a POST it holds what was sent (a refused message is
    drawn again with its text), on a GET it is empty."""
    form = MessageForm(prefix=name)
    if name == NOTE:
        form.body.label.text = _("Your note")
        form.send.label.text = _("Add the note")
    return form


@dataclass(frozen=True)
class Panel:
    messages: list[ApplicationMessage]
    form: MessageForm
    # Where the form posts; None when the viewer may not write here now (a draft).
    post_url: str | None


def panel(application: Application, name: str, endpoint: str) -> Panel:
    """The thread (``name`` MESSAGE) or the internal notes (NOTE) of ``application`` as the
    current user may read them, with the form posting to ``endpoint``."""
    internal = name == NOTE
    may_post = (policy.can_post_internal_note if internal else policy.can_post_message)
    return Panel(
        messages=messages.thread_of(application, current_user, internal=internal),
        form=message_form(name),
        post_url=(url_for(endpoint, application_id=application.id)
                  if may_post(current_user, application) else None),
    )


def first_error(form: MessageForm) -> str:
    return next((e for errors in form.errors.values() for e in errors),
                _("Correct the message below."))
