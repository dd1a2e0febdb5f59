"""The applicant's side of an application's thread with the programme's managers.

The thread is drawn on the application's page by templates/_messages.html, through the
``message_panel`` this module gives the blueprint's templates; writing posts here.
"""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..boundary import by_id, route, see_other
from ..message_forms import MESSAGE, MessageForm, first_error, message_form, panel
from ..models import Application
from ..services import messages
from .blueprint import bp
from .views import _render_application as draw_application


@bp.context_processor
def _message_panel():
    return {"message_panel": lambda application: panel(application, MESSAGE,
                                                       "applicant.post_message")}


def _refused(form: MessageForm, error: str | None = None, application=None):
    return draw_application(application, {MESSAGE: error or first_error(form)})


@route(bp, "/applications/<int:application_id>/messages", methods=("POST",),
       permission=policy.can_post_message, load={"application": by_id(Application)},
       form=lambda application: message_form(MESSAGE), render=_refused)
def post_message(form: MessageForm, application: Application):
    messages.post_message(application, current_user, form.body.data, form.files.data or ())
    flash(_("Message sent to the programme."), "success")
    return see_other("applicant.application", "messages", application_id=application.id)
