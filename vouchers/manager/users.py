"""Users and invitations: the manager lists accounts, invites evaluators and managers,
and disables or enables accounts."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from wtforms import SearchField, SelectChoice, SelectField

from workflows.lifecycle import ROLES

from ..auth.forms import ActionForm, InviteForm
from ..extensions import db
from ..models import Invitation, User
from ..navigation import nav_item
from ..services import accounts
from ..services.errors import DomainError
from .blueprint import bp

USERS_PER_PAGE = 50

nav_item("manager", "Users", "manager.users", order=90)


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    role = SelectField("Role", default="", choices=[SelectChoice("", "All roles")]
                       + [SelectChoice(r, r.title()) for r in ROLES])
    status = SelectField("Status", default="", choices=[
        SelectChoice("", "Any status"), SelectChoice("enabled", "Enabled"),
        SelectChoice("disabled", "Disabled")])
    q = SearchField("Name or e-mail")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@bp.get("/users")
def users():
    form = UserFilterForm(request.args)
    query = select(User).options(joinedload(User.organisation)).order_by(User.role, User.name,
                                                                          User.id)
    if form.validate():
        if form.role.data:
            query = query.where(User.role == form.role.data)
        if form.status.data:
            query = query.where(User.enabled == (form.status.data == "enabled"))
        text = (form.q.data or "").strip()
        if text:
            pattern = f"%{_escape_like(text.lower())}%"
            query = query.where(or_(func.lower(User.name).like(pattern, escape="\\"),
                                    func.lower(User.email).like(pattern, escape="\\")))
    page = db.paginate(query, per_page=USERS_PER_PAGE, max_per_page=USERS_PER_PAGE,
                       error_out=False, count=True)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    invitations = accounts.pending_invitations()
    return render_template("manager/users.html", form=form, page=page, page_args=args,
                           invitations=invitations, action_form=ActionForm())


@bp.route("/users/invite", methods=["GET", "POST"])
def invite_user():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation, token = accounts.create_invitation(
                by=current_user, email=form.email.data, name=form.name.data,
                role=form.role.data)
        except DomainError as exc:
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            link = url_for("auth.accept_invitation", token=token, _external=True)
            # No mail server is configured: the manager passes the link on. The link is a
            # credential (it sets a manager's password), so the log names only the invitation.
            current_app.logger.info("invitation %s for %s (%s) created by %s", invitation.id,
                                    invitation.email, invitation.role, current_user.email)
            return render_template("manager/users_invited.html", invitation=invitation,
                                   link=link)
    return render_template("manager/users_invite.html", form=form,
                           lifetime_days=accounts.INVITATION_LIFETIME.days)


def _account_action(user_id: int, change, logged: str, done: str):
    """Disable or enable an account (a POST with CSRF), then back to the list."""
    user = db.get_or_404(User, user_id)
    if ActionForm().validate_on_submit():
        try:
            change(user, current_user)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            db.session.commit()
            current_app.logger.info("account %s: %s by %s", logged, user.email,
                                    current_user.email)
            flash(done.format(name=user.name), "success")
    return redirect(url_for("manager.users"))


@bp.post("/users/<int:user_id>/disable")
def disable_user(user_id: int):
    return _account_action(user_id, accounts.disable_account, "disabled",
                           "The account of {name} is disabled and its sessions have ended.")


@bp.post("/users/<int:user_id>/enable")
def enable_user(user_id: int):
    return _account_action(user_id, accounts.enable_account, "enabled",
                           "The account of {name} is enabled again.")


@bp.post("/invitations/<int:invitation_id>/revoke")
def revoke_invitation(invitation_id: int):
    invitation = db.get_or_404(Invitation, invitation_id)
    if ActionForm().validate_on_submit():
        try:
            accounts.revoke_invitation(invitation)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            db.session.commit()
            current_app.logger.info("invitation for %s withdrawn by %s", invitation.email,
                                    current_user.email)
            flash(f"The invitation for {invitation.email} is withdrawn; its link no longer "
                  "works.", "success")
    return redirect(url_for("manager.users"))
