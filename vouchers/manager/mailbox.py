"""The mailbox: every message of the outbox, what was sent, what waits and what failed.

In development (mail goes to files under instance/mail/) a message's page shows the
message as written, its HTML part inside a sandboxed frame, except the bodies of one that
holds a single-use link for someone other than the manager looking (the page says which
file holds it); with a mail server configured the outbox keeps no bodies for display and
the page shows the delivery status only. A failed message may be sent again
(policy.can_retry_mail), unless its account is disabled or its link was removed.
"""

from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectChoice, SelectField
from wtforms.validators import Length, Optional

from .. import policy
from ..boundary import by_id, route, see_other
from ..models import OutboxMessage
from ..models.mail import OUTBOX_STATUSES
from ..navigation import nav_item
from ..security import CONTENT_SECURITY_POLICY
from ..services import mailbox as outbox_pages
from ..services.mail_sender import keeps_files
from .blueprint import bp
from .forms import ButtonForm

nav_item("manager", lazy_gettext("Mail"), "manager.mailbox", order=95)

OUTBOX = {"message": by_id(OutboxMessage, name="outbox")}
# The frame shows a message's HTML part as its recipient's mail program would, with its
# inline styles; the sandbox (no scripts, no forms, no same origin) keeps it inert.
# A message's status as the pages show it.
STATUS_LABELS = {"pending": lazy_gettext("Pending"), "sending": lazy_gettext("Sending"),
                 "sent": lazy_gettext("Sent"), "failed": lazy_gettext("Failed"),
                 "digested": lazy_gettext("Digested")}
PREVIEW_POLICY = {"Content-Security-Policy":
                  CONTENT_SECURITY_POLICY + "; style-src 'self' 'unsafe-inline'"}


class MailboxFilterForm(FlaskForm):
    """The Mail page's filters, read from the query string. A wrong value (typed into the
    URL, or a kind since removed) is left out, with its message next to its field; the
    other filters still apply."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    status = SelectField(lazy_gettext("Status"), default="",
                         choices=[SelectChoice("", lazy_gettext("Any status"))]
                         + [SelectChoice(s, STATUS_LABELS.get(s, s.title()))
                            for s in OUTBOX_STATUSES],
                         invalid_choice_message=lazy_gettext("There is no such status: messages "
                                                             "of every status are shown."))
    kind = SelectField(lazy_gettext("Kind"), default="",
                       choices=[SelectChoice("", lazy_gettext("Any kind"))]
                       + [SelectChoice(k, label) for k, label in outbox_pages.kind_choices()],
                       invalid_choice_message=lazy_gettext("There is no such kind of message: "
                                                           "messages of every kind are shown."))
    to = SearchField(lazy_gettext("Recipient"), [Optional(), Length(max=254, message=(
        lazy_gettext("An e-mail address has at most 254 characters: messages to every "
                     "address are shown.")))],
        description=lazy_gettext("An address or a part of one, such as a domain"))

    def filters(self) -> dict[str, str]:
        """The filters to apply (and to keep in the page links): each valid, non-empty one."""
        self.validate()
        return {f.name: f.data.strip() for f in (self.status, self.kind, self.to)
                if not f.errors and f.data and f.data.strip()}


@route(bp, "/mailbox", permission=policy.can_view_mailbox)
def mailbox():
    form = MailboxFilterForm(request.args)
    filters = form.filters()
    page = outbox_pages.mailbox_page(**filters, page=request.args.get("page", 1, type=int))
    return render_template("manager/mailbox.html", form=form, page=page, page_args=filters,
                           keeps_files=keeps_files(), kind_label=outbox_pages.kind_label,
                           status_labels=STATUS_LABELS)


def _message_page(message: OutboxMessage, form=None, error: str | None = None):
    return render_template(
        "manager/mailbox_message.html", message=message, error=error,
        copy=outbox_pages.file_copy(message, current_user), keeps_files=keeps_files(),
        kind_label=outbox_pages.kind_label, status_labels=STATUS_LABELS,
        resend_problem=outbox_pages.resend_problem(message),
        retry_form=form or ButtonForm(formdata=None)), 200, PREVIEW_POLICY


@route(bp, "/mailbox/<int:outbox_id>", permission=policy.can_view_mailbox, load=OUTBOX)
def mailbox_message(message: OutboxMessage):
    return _message_page(message)


@route(bp, "/mailbox/<int:outbox_id>/retry", methods=("POST",), load=OUTBOX,
       permission=policy.can_retry_mail, form=ButtonForm,
       render=lambda form, error=None, message=None: _message_page(message, form, error))
def retry_mail(form: ButtonForm, message: OutboxMessage):
    outbox_pages.retry(message, current_user)
    flash(_("The message to %(address)s will be sent again in a moment.",
            address=message.to_address), "success")
    return see_other("manager.mailbox_message", outbox_id=message.id)
