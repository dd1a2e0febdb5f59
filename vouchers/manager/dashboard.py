"""The calls overview and each call's dashboard (budget chart and counts per state)."""

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..extensions import db
from ..models import Call
from ..models.base import utcnow
from ..navigation import nav_item
from ..services.assignment import auto_assign as auto_assign_service
from ..services.assignment import wanted_per_application
from ..services.dashboard import call_dashboard, call_summaries
from ..services.errors import DomainError
from .blueprint import bp
from .forms import AutoAssignForm

nav_item("manager", "Dashboard", "manager.dashboard_home", order=10)
nav_item("manager", "Applications", "manager.applications", order=20)

# Short lists read better in a flash message than a wall of references.
_SHORT_LIST_SHOWN = 10


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def auto_assign_form(return_to: str) -> AutoAssignForm:
    form = AutoAssignForm(formdata=None, per_application=wanted_per_application())
    form.return_to.data = return_to
    return form


@bp.get("/")
def dashboard_home():
    return render_template("manager/dashboard.html", board=None,
                           summaries=call_summaries(utcnow()))


@bp.get("/calls/<int:call_id>/dashboard")
def dashboard(call_id: int):
    call = db.get_or_404(Call, call_id)
    return render_template("manager/dashboard.html", board=call_dashboard(call),
                           auto_form=auto_assign_form("dashboard"))


@bp.post("/calls/<int:call_id>/auto-assign")
def auto_assign(call_id: int):
    call = db.get_or_404(Call, call_id)
    form = AutoAssignForm()
    back = (url_for("manager.applications", call=call.id)
            if form.return_to.data == "applications"
            else url_for("manager.dashboard", call_id=call.id))
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(f"Evaluators not assigned: {message}", "error")
        return redirect(back)
    n = form.per_application.data
    try:
        result = auto_assign_service(call, n, current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(f"Evaluators not assigned: {exc}", "error")
        return redirect(back)
    db.session.commit()
    if result.made:
        flash(f"Made {_count(result.made, 'assignment')} to "
              f"{_count(result.applications, 'application')}.", "success")
    elif not result.short:
        flash(f"Every application under review already has {n} evaluators.", "success")
    if result.short:
        listed = ", ".join(f"{ref} ({got})" for ref, got in result.short[:_SHORT_LIST_SHOWN])
        more = len(result.short) - _SHORT_LIST_SHOWN
        tail = f" and {more} more" if more > 0 else ""
        flash(f"{_count(len(result.short), 'application')} could not get "
              f"{_count(n, 'evaluator')} (no other eligible evaluator): {listed}{tail}.", "error")
    return redirect(back)
