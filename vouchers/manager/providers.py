"""The service provider catalogue validation vouchers buy from."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..extensions import db
from ..models import Application, ServiceProvider
from ..navigation import nav_item
from ..services import call_setup
from ..services.errors import DomainError
from .blueprint import bp
from .forms_calls import ConfirmForm, ProviderForm

nav_item("manager", "Service providers", "manager.providers", order=40)


def _problems(exc: DomainError) -> list[str]:
    return list(getattr(exc, "problems", None) or [str(exc)])


@bp.get("/providers")
def providers():
    providers = db.session.scalars(
        select(ServiceProvider).order_by(ServiceProvider.active.desc(),
                                         ServiceProvider.country, ServiceProvider.name)
    ).all()
    uses = dict(db.session.execute(
        select(Application.provider_id, func.count(Application.id))
        .where(Application.provider_id.is_not(None)).group_by(Application.provider_id)
    ).all())
    return render_template("manager/providers.html", providers=providers, uses=uses,
                           confirm=ConfirmForm(formdata=None))


@bp.route("/providers/new", methods=["GET", "POST"])
def new_provider():
    form = ProviderForm()
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            provider = call_setup.add_provider(form.to_spec(), current_user)
        except DomainError as exc:
            problems = _problems(exc)
        else:
            db.session.commit()
            flash(f"{provider.name} added to the catalogue.", "success")
            return redirect(url_for(".providers"))
    status = 400 if request.method == "POST" else 200
    return render_template("manager/providers_form.html", form=form, provider=None,
                           problems=problems), status


@bp.route("/providers/<int:provider_id>/edit", methods=["GET", "POST"])
def edit_provider(provider_id: int):
    provider = db.get_or_404(ServiceProvider, provider_id)
    form = ProviderForm(obj=provider)
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            call_setup.update_provider(provider, form.to_spec(), current_user)
        except DomainError as exc:
            problems = _problems(exc)
        else:
            db.session.commit()
            flash(f"{provider.name} saved.", "success")
            return redirect(url_for(".providers"))
    status = 400 if request.method == "POST" else 200
    return render_template("manager/providers_form.html", form=form, provider=provider,
                           problems=problems), status


def _set_active(provider_id: int, active: bool):
    provider = db.get_or_404(ServiceProvider, provider_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        call_setup.set_provider_active(provider, active, current_user)
    except DomainError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".providers"))
    db.session.commit()
    if active:
        flash(f"{provider.name} is back in applicants' choices.", "success")
    else:
        flash(f"{provider.name} is deactivated: applicants can no longer choose it; "
              "applications that name it keep it.", "success")
    return redirect(url_for(".providers"))


@bp.post("/providers/<int:provider_id>/deactivate")
def deactivate_provider(provider_id: int):
    return _set_active(provider_id, False)


@bp.post("/providers/<int:provider_id>/reactivate")
def reactivate_provider(provider_id: int):
    return _set_active(provider_id, True)
