"""Accepting an exception to an eligibility rule, from the application's page.

The page itself (and its redrawing after a refusal) is the one in applications.py; the
rules' table and its forms are templates/manager/_eligibility.html.
"""

from __future__ import annotations

from flask import flash, g
from flask_login import current_user

from .. import policy
from ..boundary import by, by_id, route, see_other
from ..models import Application
from ..services import eligibility
from ..services.eligibility_rules import RULES, Rule
from .applications import _draw as draw_application
from .blueprint import bp
from .forms_eligibility import AcceptExceptionForm, prefix_of


def _refused_now(rule_code: str):
    """(form, error) of the exception just refused, if it was for ``rule_code``."""
    refused = g.get("refused_exception")
    return refused[1:] if refused is not None and refused[0] == rule_code else None


def exception_form(rule_code: str) -> AcceptExceptionForm:
    """The form of one failing rule: the one just refused (with what was typed), else new."""
    refused = _refused_now(rule_code)
    if refused is not None:
        return refused[0]
    return AcceptExceptionForm(formdata=None, prefix=prefix_of(rule_code))


def exception_error(rule_code: str) -> str:
    refused = _refused_now(rule_code)
    return refused[1] if refused is not None else ""


@bp.context_processor
def _exception_forms():
    return {"exception_form": exception_form, "exception_error": exception_error}


def _refused(form: AcceptExceptionForm, error: str | None, application: Application,
             rule: Rule):
    error = error or next((e for errors in form.errors.values() for e in errors),
                          "Correct the reason below.")
    g.refused_exception = (rule.code, form, error)
    flash(f"Accept an exception to “{rule.label}”: {error}", "error")
    return draw_application(application)


@route(bp, "/applications/<int:application_id>/rules/<rule>/accept", methods=("POST",),
       permission=policy.can_accept_exception,
       load={"application": by_id(Application), "rule": by("rule", RULES.get)},
       form=lambda application, rule: AcceptExceptionForm(prefix=prefix_of(rule.code)),
       render=_refused)
def accept_exception(form: AcceptExceptionForm, application: Application, rule: Rule):
    eligibility.accept_exception(application, rule.code, form.reason.data, current_user)
    flash(f"Exception to “{rule.label}” accepted; the reason is in the history.", "success")
    return see_other("manager.application", "eligibility-heading",
                     application_id=application.id)
