"""The account's mail settings: each message at once, or a daily digest of the non-urgent
ones (services/mail_preferences.py)."""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from .. import policy
from ..boundary import route, see_other
from ..services import mail_preferences
from .views import bp

IMMEDIATE, DIGEST = "immediate", "digest"


class MailSettingsForm(FlaskForm):
    delivery = RadioField(lazy_gettext("How should we send you e-mail?"), choices=[
        SelectChoice(IMMEDIATE, lazy_gettext("Send me each message at once")),
        SelectChoice(DIGEST, lazy_gettext("Collect non-urgent messages in one daily e-mail")),
    ], validators=[InputRequired(lazy_gettext("Choose how we send you e-mail."))])


def _form() -> MailSettingsForm:
    return MailSettingsForm(data={"delivery": DIGEST if current_user.mail_digest
                                  else IMMEDIATE})


def _render(form: MailSettingsForm, error: str | None = None):
    if error:
        form.form_errors.append(error)
    waiting, urgent = mail_preferences.kinds_for(current_user)
    return render_template("auth/mail_settings.html", form=form, waiting=waiting,
                           urgent=urgent)


@route(bp, "/mail", permission=policy.can_use_account, form=_form, render=_render)
def mail_settings(form: MailSettingsForm):
    digest = form.delivery.data == DIGEST
    mail_preferences.set_digest(current_user._get_current_object(), digest)
    flash(gettext("Non-urgent messages now come in one daily e-mail.") if digest else
          gettext("Each message now comes at once."), "success")
    return see_other("auth.mail_settings")
