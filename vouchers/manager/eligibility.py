"""Accepting an exception to an eligibility rule, from the application's page.

The page itself (and its redrawing after a refusal) is the one in applications.py; the
rules' table and its forms are templates/manager/_eligibility.html.
"""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..boundary import by, by_id, route, see_other
from ..models import Application
from ..services import eligibility
from ..services.eligibility_rules import RULES, Rule
from .applications import _draw as draw_application
from .blueprint import bp
from .forms_eligibility import AcceptExceptionForm, exception_key, prefix_of


def _refused(form: AcceptExceptionForm, error: str | None, application: Application,
             rule: Rule):
    error = error or next((e for errors in form.errors.values() for e in errors),
                          _("Correct the reason below."))
    return draw_application(application, name=exception_key(rule.code), form=form,
                            error=error,
                            label=_("Accept an exception to “%(rule)s”", rule=_(rule.label)))


@route(bp, "/applications/<int:application_id>/rules/<rule>/accept", methods=("POST",),
       permission=policy.can_accept_exception,
       load={"application": by_id(Application), "rule": by("rule", RULES.get)},
       form=lambda application, rule: AcceptExceptionForm(prefix=prefix_of(rule.code)),
       render=_refused)
def accept_exception(form: AcceptExceptionForm, application: Application, rule: Rule):
    eligibility.accept_exception(application, rule.code, form.reason.data, current_user)
    flash(_("Exception to “%(rule)s” accepted; the reason is in the history.",
            rule=_(rule.label)), "success")
    return see_other("manager.application", "eligibility-heading",
                     application_id=application.id)
