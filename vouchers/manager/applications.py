"""The applications table, an application's page with its actions, and hand assignment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.routing import BuildError
from wtforms import SelectChoice

from workflows import lifecycle

from ..clock import today
from ..extensions import db
from ..models import Application, Assignment, AuditRecord, Payment, Review, User
from ..models.base import utcnow
from ..money import ZERO
from ..services import listing, reporting, transitions
from ..services.assignment import eligible_evaluators, wanted_per_application
from ..services.calls import calls_open_first
from ..services.errors import DomainError
from ..services.reviews import REVIEWABLE_STATES, assign
from .blueprint import bp
from .dashboard import auto_assign_form
from .forms import (
    ApplicationFilterForm,
    AssignForm,
    AwardForm,
    ButtonForm,
    ChangesForm,
    CommentForm,
    PaymentForm,
    ReasonForm,
)

# --- The applications table -------------------------------------------------------------


@bp.get("/applications")
def applications():
    calls = calls_open_first(utcnow())
    form = ApplicationFilterForm(request.args)
    form.call.choices = [SelectChoice(c.id, f"{c.code} · {c.title}") for c in calls]
    form.country.choices = [SelectChoice("", "All countries")] + [
        SelectChoice(c, c) for c in listing.countries()
    ]
    if not request.args.get("call") and calls:
        form.call.data = calls[0].id
    if not calls:
        return render_template("manager/applications.html", form=form, call=None, page=None,
                               page_url=None)
    if not form.validate():
        return render_template("manager/applications.html", form=form, call=None, page=None,
                               page_url=None), 400
    call = next(c for c in calls if c.id == form.call.data)
    query = listing.TableQuery(
        call_id=call.id, voucher_type=form.type.data or None, state=form.state.data or None,
        country=form.country.data or None, text=(form.q.data or "").strip(),
        sort=form.sort.data, direction=form.dir.data, page=form.page.data or 1,
        per_page=form.per_page.data,
    )
    page = listing.applications_page(query)
    params = {"call": call.id, "type": query.voucher_type, "state": query.state,
              "country": query.country, "q": query.text or None, "sort": query.sort,
              "dir": query.direction, "per_page": query.per_page, "page": page.page}

    def page_url(**changes) -> str:
        merged = {**params, **changes}
        return url_for("manager.applications",
                       **{k: v for k, v in merged.items() if v not in (None, "")})

    return render_template("manager/applications.html", form=form, call=call, page=page,
                           query=query, page_url=page_url,
                           auto_form=auto_assign_form("applications"))


# --- The application page ---------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    label: str
    form: type
    run: Callable[[Application, User, object], object]
    done: str


def _comment(form) -> str:
    return form.comment.data or ""


ACTIONS: dict[str, Action] = {
    "start_review": Action("Start review", ButtonForm,
                           lambda a, u, f: transitions.start_review(a, u), "Review started."),
    "award": Action("Award", AwardForm,
                    lambda a, u, f: transitions.award(a, u, f.amount.data, comment=_comment(f)),
                    "Voucher awarded."),
    "reject": Action("Reject", ReasonForm,
                     lambda a, u, f: transitions.reject(a, u, _comment(f)),
                     "Application rejected."),
    "waitlist": Action("Waitlist", CommentForm,
                       lambda a, u, f: transitions.waitlist(a, u, _comment(f)),
                       "Application waitlisted."),
    "return_for_changes": Action("Return for changes", ChangesForm,
                                 lambda a, u, f: transitions.return_for_changes(a, u, _comment(f)),
                                 "Application returned to the applicant for changes."),
    "cancel": Action("Cancel voucher", ReasonForm,
                     lambda a, u, f: transitions.cancel(a, u, _comment(f)),
                     "Voucher cancelled; its amount is back in the envelope."),
    "start_reporting": Action("Start final report", ButtonForm,
                              lambda a, u, f: reporting.start_reporting(a, u),
                              "The applicant can now write the final report."),
    "approve_report": Action("Approve final report", CommentForm,
                             lambda a, u, f: reporting.approve_report(a, u, _comment(f)),
                             "Final report approved."),
    "return_report": Action("Return final report", ChangesForm,
                            lambda a, u, f: reporting.return_report(a, u, _comment(f)),
                            "Final report returned to the applicant."),
    "record_payment": Action(
        "Record payment", PaymentForm,
        lambda a, u, f: reporting.record_payment(
            a, u, f.amount.data, paid_on=f.paid_on.data, reference=f.reference.data or "",
            invoice_number=f.invoice_number.data or "", invoice_date=f.invoice_date.data,
        ),
        "Payment recorded.",
    ),
}


def _application_or_404(application_id: int) -> Application:
    return db.get_or_404(Application, application_id)


def _available(application: Application) -> list[str]:
    """The manager's actions from the current state, the usual decision first."""
    offered = {t.trigger for t in transitions.available_actions(application, current_user)}
    names = [name for name in ACTIONS if name in offered]
    if application.state == lifecycle.COMPLETED:
        names.append("record_payment")
    return names


def _fresh_form(name: str, application: Application, payable):
    form = ACTIONS[name].form(formdata=None, prefix=name)
    if name == "award":
        form.amount.data = application.requested_amount
    elif name == "record_payment":
        form.amount.data = max(payable - application.paid_amount, ZERO) if payable else None
        form.paid_on.data = today()
    return form


def _download_url(attachment_id: int) -> str | None:
    """The attachment's download link, or None where the files area is not installed."""
    try:
        return url_for("files.download", attachment_id=attachment_id)
    except BuildError:
        return None


def _evaluator_choices(application: Application) -> list[SelectChoice]:
    return [SelectChoice(c.id, f"{c.name} ({c.load} in this call)")
            for c in eligible_evaluators(application)]


def _render_application(application: Application, *, bound: dict | None = None,
                        errors: dict | None = None, status: int = 200):
    bound = bound or {}
    errors = errors or {}
    cvt = application.call_voucher_type
    reviews = list(db.session.scalars(
        select(Review).where(Review.application_id == application.id)
        .options(selectinload(Review.scores), joinedload(Review.evaluator))
        .order_by(Review.submitted_at, Review.id)
    ))
    assignments = list(db.session.scalars(
        select(Assignment).where(Assignment.application_id == application.id)
        .options(joinedload(Assignment.evaluator))
        .order_by(Assignment.assigned_at, Assignment.id)
    ))
    records = list(db.session.scalars(
        select(AuditRecord).where(AuditRecord.application_id == application.id)
        .options(joinedload(AuditRecord.actor)).order_by(AuditRecord.id)
    ))
    report = reporting.final_report_of(application)
    payments = list(db.session.scalars(
        select(Payment).where(Payment.application_id == application.id)
        .order_by(Payment.paid_on, Payment.id)
    ))
    payable = reporting.payable_amount(application) if report is not None else None

    scored = [r.weighted_score for r in reviews if r.weighted_score is not None]
    spread = max(scored) - min(scored) if len(scored) >= 2 else None
    standing = sum(1 for a in assignments if not a.has_conflict)
    conflicts = sum(1 for a in assignments if a.has_conflict)
    wanted = wanted_per_application()

    actions = [(name, ACTIONS[name], bound.get(name) or _fresh_form(name, application, payable))
               for name in _available(application)]
    assign_form = None
    if application.state in REVIEWABLE_STATES:
        assign_form = bound.get("assign") or AssignForm(formdata=None, prefix="assign")
        assign_form.evaluator.choices = _evaluator_choices(application)

    return render_template(
        "manager/application.html", application=application, cvt=cvt,
        criteria=cvt.criteria, reviews=reviews, spread=spread,
        scores_of={r.id: {s.criterion_id: s.score for s in r.scores} for r in reviews},
        assignments=assignments,
        reviewed_by={r.evaluator_id for r in reviews}, standing=standing, wanted=wanted,
        needs_another=conflicts > 0 and standing < wanted, records=records, report=report,
        payable=payable, payments=payments, actions=actions, errors=errors,
        # A refusal of an action no longer offered (the state moved on) shows above the rest.
        stray_errors=[(ACTIONS[name].label, message) for name, message in errors.items()
                      if name in ACTIONS and name not in {n for n, _, _ in actions}],
        assign_form=assign_form,
        attachment_links=[(a, _download_url(a.id)) for a in application.attachments],
    ), status


@bp.get("/applications/<int:application_id>")
def application(application_id: int):
    return _render_application(_application_or_404(application_id))


@bp.post("/applications/<int:application_id>/actions/<action>")
def application_action(application_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    application = _application_or_404(application_id)
    spec = ACTIONS[action]
    form = spec.form(prefix=action)
    if not form.validate():
        flash(f"{spec.label}: correct the form below.", "error")
        return _render_application(application, bound={action: form},
                                   errors={action: "Correct the fields marked below."},
                                   status=400)
    try:
        spec.run(application, current_user, form)
    except DomainError as exc:
        db.session.rollback()
        flash(f"{spec.label}: {exc}", "error")
        return _render_application(_application_or_404(application_id), bound={action: form},
                                   errors={action: str(exc)}, status=409)
    db.session.commit()
    flash(spec.done, "success")
    return redirect(url_for("manager.application", application_id=application_id))


@bp.post("/applications/<int:application_id>/assignments")
def assign_evaluator(application_id: int):
    application = _application_or_404(application_id)
    form = AssignForm(prefix="assign")
    evaluator = None
    if form.evaluator.data is not None:
        evaluator = db.session.get(User, form.evaluator.data)
    # The choices shown were a convenience; the service decides who may be assigned.
    form.evaluator.choices = [SelectChoice(evaluator.id, evaluator.name)] if evaluator else []
    if not form.validate() or evaluator is None:
        message = "Choose an evaluator from the list."
        flash(f"Assign an evaluator: {message}", "error")
        return _render_application(application, bound={"assign": form},
                                   errors={"assign": message}, status=400)
    try:
        assign(application, evaluator, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(f"Assign an evaluator: {exc}", "error")
        return _render_application(_application_or_404(application_id),
                                   bound={"assign": form}, errors={"assign": str(exc)},
                                   status=409)
    db.session.commit()
    flash(f"{evaluator.name} assigned.", "success")
    return redirect(url_for("manager.application", application_id=application_id)
                    + "#assignments-heading")
