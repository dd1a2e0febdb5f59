"""The evaluator's pages: my assignments, an application, conflicts and blind reviews.

Every route goes through the request boundary: an evaluator reaches only the applications
assigned to them with no conflict declared (policy.can_open_assignment answers 404 for
everything else); they see its content, files and versions only once they confirmed they
have no conflict of interest (policy.can_view_application), and other evaluators' scores
only once their own review of that version is in.
"""

from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..boundary import by_id, route, see_other
from ..models import Application
from ..navigation import nav_item
from ..services import consensus, reviews
from ..services.review_pages import assignments_page, review_page
from .blueprint import bp
from .forms import ConfirmForm, ConflictForm, ReviewForm, review_form

nav_item("evaluator", "My assignments", "evaluator.home")

APPLICATION = {"application": by_id(Application)}


@route(bp, "/", permission=policy.can_evaluate)
def home():
    page = assignments_page(current_user, request.args.get("page", 1, type=int))
    return render_template("evaluator/home.html", page=page,
                           consensus_queue=consensus.lead_queue(current_user))


def _review_form(application: Application, **kwargs) -> ReviewForm:
    cvt = application.call_voucher_type
    return review_form(cvt.criteria, cvt.score_scale, **kwargs)


def _page(application: Application, *, conflict_form=None, form=None,
          conflict_error: str | None = None, review_error: str | None = None,
          confirm_error: str | None = None):
    return render_template(
        "evaluator/application.html", application=application,
        cvt=application.call_voucher_type,
        conflict_form=conflict_form or ConflictForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        form=form or _review_form(application, formdata=None),
        conflict_error=conflict_error, review_error=review_error,
        confirm_error=confirm_error, **review_page(application, current_user),
    )


@route(bp, "/applications/<int:application_id>", permission=policy.can_open_assignment,
       load=APPLICATION)
def application(application: Application):
    return _page(application)


def _refused_confirmation(form: ConfirmForm, error=None, application=None):
    return _page(application, confirm_error=error or _("The form expired; try again."))


@route(bp, "/applications/<int:application_id>/no-conflict", methods=("POST",),
       permission=policy.can_confirm_no_conflict, load=APPLICATION, form=ConfirmForm,
       render=_refused_confirmation)
def confirm_no_conflict(form: ConfirmForm, application: Application):
    reviews.confirm_no_conflict(application, current_user)
    flash(_("You confirmed that you have no conflict of interest."), "success")
    return see_other("evaluator.application", application_id=application.id)


def _refused_conflict(form: ConflictForm, error=None, application=None):
    return _page(application, conflict_form=form, conflict_error=error)


@route(bp, "/applications/<int:application_id>/conflict", methods=("POST",),
       permission=policy.can_open_assignment, load=APPLICATION, form=ConflictForm,
       render=_refused_conflict)
def declare_conflict(form: ConflictForm, application: Application):
    reviews.declare_conflict(application, current_user, form.reason.data)
    flash(_("You declared a conflict of interest on %(reference)s. It has left your list, "
            "and the programme manager will ask another evaluator.",
            reference=application.reference), "success")
    return see_other("evaluator.home")


def _refused_review(form: ReviewForm, error=None, application=None):
    return _page(application, form=form, review_error=error)


# The service refuses a review before the no-conflict confirmation, with its message.
@route(bp, "/applications/<int:application_id>/review", methods=("POST",),
       permission=policy.can_open_assignment, load=APPLICATION, form=_review_form,
       render=_refused_review)
def submit_review(form: ReviewForm, application: Application):
    reviews.submit_review(application, current_user, scores=form.scores(),
                          recommendation=form.recommendation.data, comment=form.comment.data)
    flash(_("Your review is submitted. The other evaluators' reviews are shown below."),
          "success")
    return see_other("evaluator.application", application_id=application.id)
