"""What changed between two versions of an application, and taking an evaluator off it."""

from __future__ import annotations

from flask import abort, flash, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from .. import policy
from ..boundary import back_to, by, by_id, route, see_other
from ..models import Application, Assignment
from ..models.base import MAX_ID
from ..services import reviews, versions
from .blueprint import bp


def _number(value: int) -> int | None:
    return value if 0 < value <= MAX_ID else None


# The version numbers are loaded too, so the permission is asked about the application
# (the boundary asks about the first loaded object); a missing version answers 404.
VERSIONS = {"application": by_id(Application), "old": by("old", _number),
            "new": by("new", _number)}


class UnassignForm(FlaskForm):
    reason = StringField("Why (optional)", validators=[Optional(), Length(max=500)])


@route(bp, "/applications/<int:application_id>/versions/<int:old>/<int:new>",
       permission=policy.can_compare_versions, load=VERSIONS)
def compare_versions(application: Application, old: int, new: int):
    found = versions.diff(application, old, new)
    if found is None:
        abort(404)
    return render_template(
        "_version_diff.html", application=application, diff=found,
        back=url_for("manager.application", application_id=application.id))


def _refused_unassign(form: UnassignForm, error=None, assignment: Assignment | None = None):
    # A refusal (say, the evaluator's review came in meanwhile) reads on the page it
    # came from, next to the evaluators.
    message = error or next(iter(form.errors.values()), ["Check the form."])[0]
    return back_to("manager.application", f"Unassign: {message}",
                   application_id=assignment.application_id, _anchor="assignments-heading")


@route(bp, "/assignments/<int:assignment_id>/unassign", methods=("POST",),
       permission=policy.can_unassign, load={"assignment": by_id(Assignment)},
       form=UnassignForm, render=_refused_unassign)
def unassign(form: UnassignForm, assignment: Assignment):
    application_id, name = assignment.application_id, assignment.evaluator.name
    reviews.unassign(assignment, current_user, form.reason.data or "")
    flash(f"{name} unassigned.", "success")
    return see_other("manager.application", "assignments-heading",
                     application_id=application_id)
