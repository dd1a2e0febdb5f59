"""The managers' side of an application's thread, and their internal notes.

Both are drawn on the application's page (templates/_messages.html and
templates/manager/_internal_notes.html) through the ``message_panel`` this module gives
the blueprint's templates; writing posts here. A refusal draws the page again, with the
message's text kept and the reason next to its form.
"""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from .. import policy
from ..boundary import by_id, route, see_other
from ..message_forms import MESSAGE, NOTE, MessageForm, first_error, message_form, panel
from ..models import Application
from ..services import messages
from .applications import _draw as draw_application
from .blueprint import bp

APPLICATION = {"application": by_id(Application)}
ENDPOINTS = {MESSAGE: "manager.post_message", NOTE: "manager.post_internal_note"}
LABELS = {MESSAGE: lazy_gettext("Message to the applicant"), NOTE: lazy_gettext("Internal note")}


@bp.context_processor
def _message_panel():
    return {"message_panel": lambda application, name=MESSAGE: panel(application, name,
                                                                      ENDPOINTS[name])}


def _refused(name: str):
    def render(form: MessageForm, error: str | None = None, application=None):
        return draw_application(application, name=name, form=form,
                                error=error or first_error(form), label=LABELS[name])

    return render


@route(bp, "/applications/<int:application_id>/messages", methods=("POST",),
       permission=policy.can_post_message, load=APPLICATION,
       form=lambda application: message_form(MESSAGE), render=_refused(MESSAGE))
def post_message(form: MessageForm, application: Application):
    messages.post_message(application, current_user, form.body.data, form.files.data or ())
    flash(_("Message sent to the applicant."), "success")
    return see_other("manager.application", "messages", application_id=application.id)


@route(bp, "/applications/<int:application_id>/notes", methods=("POST",),
       permission=policy.can_post_internal_note, load=APPLICATION,
       form=lambda application: message_form(NOTE), render=_refused(NOTE))
def post_internal_note(form: MessageForm, application: Application):
    messages.post_internal_note(application, current_user, form.body.data,
                                form.files.data or ())
    flash(_("Internal note added; only managers see it."), "success")
    return see_other("manager.application", "internal-notes", application_id=application.id)
