"""The evaluator's pages: my assignments, an application, conflicts and blind reviews.

An evaluator reaches only the applications assigned to them with no conflict declared
(permissions.application_or_404 answers 404 for everything else), and sees other
evaluators' scores on an application only once their own review is in.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from workflows import lifecycle

from .. import policy
from ..extensions import db
from ..models import Application, Assignment, Review
from ..navigation import nav_item
from ..services import reviews
from ..services.errors import DomainError
from .blueprint import bp
from .forms import ConflictForm, review_form

PER_PAGE = 50


def application_or_404(application_id: int) -> Application:
    # Interim: replaced by the boundary's loader when this module moves onto route().
    application = db.session.get(Application, application_id)
    if application is None or not policy.can_view_application(current_user, application):
        abort(404)
    return application

nav_item("evaluator", "My assignments", "evaluator.home")


@bp.get("/")
def home():
    reviewed_by_me = (
        select(Review.id)
        .where(Review.application_id == Assignment.application_id,
               Review.evaluator_id == Assignment.evaluator_id)
        .exists()
    )
    query = (
        select(Assignment)
        .where(Assignment.evaluator_id == current_user.id,
               Assignment.conflict_declared_at.is_(None))
        .options(joinedload(Assignment.application).joinedload(Application.organisation),
                 joinedload(Assignment.application).joinedload(Application.call))
        # Still to review first, newest assignments first within each group.
        .order_by(reviewed_by_me, Assignment.assigned_at.desc(), Assignment.id.desc())
    )
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)
    ids = [a.application_id for a in page.items]
    reviewed = set(db.session.scalars(
        select(Review.application_id).where(Review.evaluator_id == current_user.id,
                                            Review.application_id.in_(ids))
    )) if ids else set()
    return render_template("evaluator/home.html", page=page, reviewed=reviewed)


def _review_form(application: Application, **kwargs):
    cvt = application.call_voucher_type
    return review_form(cvt.criteria, cvt.score_scale, **kwargs)


def _render(application: Application, *, conflict_form=None, form=None, status: int = 200,
            conflict_error: str | None = None, review_error: str | None = None):
    mine = reviews.review_of(application, current_user)
    submitted = []
    if mine is not None:
        # Blind until now: the other reviews show only once this evaluator's is in.
        submitted = list(db.session.scalars(
            select(Review).where(Review.application_id == application.id)
            .options(selectinload(Review.scores))
            .order_by(Review.submitted_at, Review.id)
        ))
        # The evaluator's own review first; the others are numbered, not named.
        submitted.sort(key=lambda r: r.id != mine.id)
    # The download route belongs to the files blueprint; list files only where it exists.
    can_download = "files.download" in current_app.view_functions
    attachments = [a for a in application.attachments if a.purpose == "application"]
    return render_template(
        "evaluator/application.html",
        application=application, cvt=application.call_voucher_type, mine=mine,
        submitted=submitted, scores={r.id: {s.criterion_id: s.score for s in r.scores}
                                     for r in submitted},
        attachments=attachments if can_download else [],
        can_review=mine is None and application.state == lifecycle.UNDER_REVIEW,
        conflict_form=conflict_form or ConflictForm(formdata=None),
        form=form or _review_form(application, formdata=None),
        conflict_error=conflict_error, review_error=review_error,
    ), status


@bp.get("/applications/<int:application_id>")
def application(application_id: int):
    return _render(application_or_404(application_id))


@bp.post("/applications/<int:application_id>/conflict")
def declare_conflict(application_id: int):
    application = application_or_404(application_id)
    form = ConflictForm()
    if not form.validate_on_submit():
        return _render(application, conflict_form=form, status=400)
    try:
        reviews.declare_conflict(application, current_user, form.reason.data)
    except DomainError as exc:
        return _render(application, conflict_form=form, conflict_error=str(exc), status=400)
    db.session.commit()
    flash(f"You declared a conflict of interest on {application.reference}. It has left "
          "your list, and the programme manager will ask another evaluator.", "success")
    return redirect(url_for(".home"))


@bp.post("/applications/<int:application_id>/review")
def submit_review(application_id: int):
    application = application_or_404(application_id)
    form = _review_form(application)
    if not form.validate_on_submit():
        return _render(application, form=form, status=400)
    try:
        reviews.submit_review(application, current_user, scores=form.scores(),
                              recommendation=form.recommendation.data,
                              comment=form.comment.data)
    except DomainError as exc:
        return _render(application, form=form, review_error=str(exc), status=400)
    db.session.commit()
    flash("Your review is submitted. The other evaluators' reviews are shown below.",
          "success")
    return redirect(url_for(".application", application_id=application.id))
