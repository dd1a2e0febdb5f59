"""The manager's call set-up: programmes, calls, voucher types, budgets and criteria."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectChoice

from ..extensions import db
from ..models import Call, Programme
from ..models.base import utcnow
from ..navigation import nav_item
from ..services import call_setup
from ..services.errors import DomainError
from .blueprint import bp
from .forms_calls import CallForm, NewCallForm, ProgrammeForm, call_form_data, new_call_data

nav_item("manager", "Calls", "manager.calls", order=30)

# The submit button that adds an empty criterion row (its value names the voucher type)
# instead of saving: the page works without JavaScript.
ADD_ROW = "add_criterion"


def _problems(exc: DomainError) -> list[str]:
    return list(getattr(exc, "problems", None) or [str(exc)])


@bp.get("/calls")
def calls():
    rows = db.session.scalars(
        select(Call).options(joinedload(Call.programme), selectinload(Call.voucher_types))
        .order_by(Call.opens_at.desc(), Call.id.desc())
    ).all()
    programmes = db.session.execute(
        select(Programme, func.count(Call.id)).outerjoin(Call, Call.programme_id == Programme.id)
        .group_by(Programme.id).order_by(Programme.starts_on.desc(), Programme.id.desc())
    ).all()
    return render_template("manager/calls.html", calls=rows, programmes=programmes,
                           now=utcnow())


@bp.route("/programmes/new", methods=["GET", "POST"])
def new_programme():
    form = ProgrammeForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            programme = call_setup.create_programme(
                current_user, name=form.name.data, funder=form.funder.data,
                total_budget=form.total_budget.data, starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
            )
        except DomainError as exc:
            problems = _problems(exc)
        else:
            db.session.commit()
            flash(f"Programme {programme.name} created. Now set up its first call.", "success")
            return redirect(url_for(".new_call", programme=programme.id))
    status = 400 if request.method == "POST" else 200
    return render_template("manager/calls_programme.html", form=form, problems=problems), status


def _render_call_form(form: CallForm, call: Call | None, problems: list[str], status: int):
    return render_template("manager/calls_form.html", form=form, call=call,
                           problems=problems + list(form.form_errors), add_row=ADD_ROW), status


@bp.route("/calls/new", methods=["GET", "POST"])
def new_call():
    programmes = db.session.scalars(
        select(Programme).order_by(Programme.starts_on.desc(), Programme.id.desc())
    ).all()
    if not programmes:
        flash("Calls belong to a programme: create the programme first.", "info")
        return redirect(url_for(".new_programme"))
    if request.method == "POST":
        form = NewCallForm()
    else:
        form = NewCallForm(data={**new_call_data(),
                                 "programme_id": request.args.get("programme", type=int)})
    form.programme_id.choices = [SelectChoice(p.id, p.name) for p in programmes]
    if request.method == "POST" and ADD_ROW in request.form:
        form.add_criterion_row(request.form[ADD_ROW])
        return _render_call_form(form, None, [], 200)
    problems: list[str] = []
    if form.validate_on_submit():
        programme = db.session.get(Programme, form.programme_id.data)
        try:
            call = call_setup.create_call(programme, form.to_spec(), current_user)
        except DomainError as exc:
            problems = _problems(exc)
        else:
            db.session.commit()
            flash(f"Call {call.code} created.", "success")
            return redirect(url_for(".edit_call", call_id=call.id))
    return _render_call_form(form, None, problems, 400 if request.method == "POST" else 200)


@bp.route("/calls/<int:call_id>/edit", methods=["GET", "POST"])
def edit_call(call_id: int):
    call = db.get_or_404(Call, call_id)
    form = CallForm() if request.method == "POST" else CallForm(data=call_form_data(call))
    if request.method == "POST" and ADD_ROW in request.form:
        form.add_criterion_row(request.form[ADD_ROW])
        return _render_call_form(form, call, [], 200)
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            call_setup.update_call(call, form.to_spec(), current_user)
        except DomainError as exc:
            problems = _problems(exc)
        else:
            db.session.commit()
            flash(f"Call {call.code} saved.", "success")
            return redirect(url_for(".edit_call", call_id=call.id))
    return _render_call_form(form, call, problems, 400 if request.method == "POST" else 200)
