"""What changed between two versions of an application (for managers and assigned
evaluators), and taking an evaluator off an application."""

from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from .. import policy
from ..boundary import back_to, by_id, route, see_other
from ..evaluator.blueprint import bp as evaluator_bp
from ..models import Application, Assignment
from ..services import reviews, versions
from .blueprint import bp


class UnassignForm(FlaskForm):
    reason = StringField(lazy_gettext("Why (optional)"), validators=[Optional(), Length(max=500)])


def compare_versions(application: Application, old: int, new: int):
    found = versions.diff(application, old, new)
    if found is None:
        abort(404)
    return render_template(
        "_version_diff.html", application=application, diff=found,
        back=url_for(f"{request.blueprint}.application", application_id=application.id))


# One page with two doors, as the consensus page: managers in their area, assigned
# evaluators in theirs; policy.can_compare_versions decides who of those gets in.
for _blueprint in (bp, evaluator_bp):
    route(_blueprint, "/applications/<int:application_id>/versions/<int:old>/<int:new>",
          permission=policy.can_compare_versions, load={"application": by_id(Application)},
          endpoint="compare_versions")(compare_versions)


def _refused_unassign(form: UnassignForm, error=None, assignment: Assignment | None = None):
    # A refusal (say, the evaluator's review came in meanwhile) reads on the page it
    # came from, next to the evaluators.
    message = error or next(iter(form.errors.values()), [_("Check the form.")])[0]
    return back_to("manager.application", _("Unassign: %(why)s", why=message),
                   application_id=assignment.application_id, _anchor="assignments-heading")


@route(bp, "/assignments/<int:assignment_id>/unassign", methods=("POST",),
       permission=policy.can_unassign, load={"assignment": by_id(Assignment)},
       form=UnassignForm, render=_refused_unassign)
def unassign(form: UnassignForm, assignment: Assignment):
    application_id, name = assignment.application_id, assignment.evaluator.name
    reviews.unassign(assignment, current_user, form.reason.data or "")
    flash(_("%(name)s unassigned.", name=name), "success")
    return see_other("manager.application", "assignments-heading",
                     application_id=application_id)
