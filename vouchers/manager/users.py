"""Users and invitations: the manager lists accounts, invites evaluators and managers,
disables (after a confirmation page), enables and unlocks accounts, resets another
user's two-factor sign-in (after a confirmation page) and sets whether the programme's
evaluators must use one."""

from __future__ import annotations

from flask import current_app, flash, make_response, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectChoice, SelectField

from workflows.lifecycle import ROLES

from .. import policy
from ..auth.forms import ActionForm, DisableForm
from ..auth.second_factor_forms import ResetSecondFactorForm
from ..boundary import back_to, by_id, route, see_other
from ..links import external_url
from ..models import Invitation, Programme, User
from ..navigation import nav_item
from ..services import accounts, logins, partner_setup, totp
from .blueprint import bp
from .forms_partners import invite_form, user_partner_form
from .forms_programmes import EvaluatorsSecondFactorForm

nav_item("manager", lazy_gettext("Users"), "manager.users", order=90)
# The session key holding a new invitation's link until its page is drawn.
SHOWN_ONCE = "new_invitation_link"
# The roles as the filter names them.
ROLE_NAMES = {"applicant": lazy_gettext("Applicant"), "evaluator": lazy_gettext("Evaluator"),
              "manager": lazy_gettext("Manager")}


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    role = SelectField(lazy_gettext("Role"), default="",
                       choices=[SelectChoice("", lazy_gettext("All roles"))]
                       + [SelectChoice(r, ROLE_NAMES.get(r, r.title())) for r in ROLES])
    status = SelectField(lazy_gettext("Status"), default="", choices=[
        SelectChoice("", lazy_gettext("Any status")),
        SelectChoice("enabled", lazy_gettext("Enabled")),
        SelectChoice("disabled", lazy_gettext("Disabled"))])
    q = SearchField(lazy_gettext("Name or e-mail"))


@route(bp, "/users", permission=policy.can_run_programme)
def users():
    form = UserFilterForm(request.args)
    valid = form.validate()
    page = accounts.list_users(role=form.role.data if valid else "",
                               status=form.status.data if valid else "",
                               text=(form.q.data or "") if valid else "",
                               page=request.args.get("page", 1, type=int))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("manager/users.html", form=form, page=page, page_args=args,
                           invitations=accounts.pending_invitations(),
                           failures=logins.failure_counts([u.email for u in page.items]),
                           action_form=ActionForm(), partner_form=user_partner_form(),
                           partner_names=dict(partner_setup.partner_choices()))


def _render_invite(form, error=None):
    if error:
        form.form_errors.append(error)
    return render_template("manager/users_invite.html", form=form,
                           lifetime_days=accounts.INVITATION_LIFETIME.days)


@route(bp, "/users/invite", permission=policy.can_invite, form=invite_form,
       render=_render_invite)
def invite_user(form):
    invitation, token = accounts.create_invitation(
        by=current_user, email=form.email.data, name=form.name.data, role=form.role.data,
        partner_id=form.partner_id.data, language=form.language.data or None)
    # The link went out by e-mail too; the manager may still pass it on. The link is a
    # credential (it sets a manager's password), so the log names only the invitation.
    current_app.logger.info("invitation %s for %s (%s) created by %s", invitation.id,
                            invitation.email, invitation.role, current_user.email)
    # Shown once, on the page the browser is sent to: reloading that page cannot create
    # another invitation (which would kill the link just mailed).
    session[SHOWN_ONCE] = {"id": invitation.id,
                           "link": external_url("auth.accept_invitation", token=token)}
    return see_other("manager.invitation_created", invitation_id=invitation.id)


@route(bp, "/users/invitations/<int:invitation_id>", permission=policy.can_revoke_invitation,
       load={"invitation": by_id(Invitation)})
def invitation_created(invitation):
    shown = session.pop(SHOWN_ONCE, None) or {}
    link = shown.get("link") if shown.get("id") == invitation.id else None
    response = make_response(render_template("manager/users_invited.html",
                                             invitation=invitation, link=link))
    response.headers["Cache-Control"] = "no-store"
    return response


def _render_disable(form, user, error=None):
    if error:
        form.form_errors.append(error)
    return render_template("manager/users_disable.html", form=form, user=user)


@route(bp, "/users/<int:user_id>/disable", permission=policy.can_disable_account,
       load={"user": by_id(User)}, form=DisableForm, render=_render_disable)
def disable_user(form, user):
    accounts.disable_account(user, current_user, reason=form.reason.data or "")
    current_app.logger.info("account disabled: %s by %s", user.email, current_user.email)
    flash(_("The account of %(name)s is disabled and its sessions have ended.", name=user.name),
          "success")
    return see_other("manager.users")


def _back_to_users(error=None, **objects):
    return back_to("manager.users", error)


@route(bp, "/users/<int:user_id>/enable", permission=policy.can_enable_account,
       load={"user": by_id(User)}, render=_back_to_users, methods=("POST",))
def enable_user(user):
    accounts.enable_account(user, current_user)
    current_app.logger.info("account enabled: %s by %s", user.email, current_user.email)
    flash(_("The account of %(name)s is enabled again.", name=user.name), "success")
    return see_other("manager.users")


@route(bp, "/users/<int:user_id>/unlock", permission=policy.can_unlock_account,
       load={"user": by_id(User)}, render=_back_to_users, methods=("POST",))
def unlock_user(user):
    cleared = logins.unlock_account(user, current_user)
    current_app.logger.info("account unlocked: %s by %s (%s failures cleared)", user.email,
                            current_user.email, cleared)
    flash(_("The failed logins of %(name)s are cleared; logging in works again.", name=user.name),
          "success")
    return see_other("manager.users")


def _render_reset(form, user, error=None):
    if error:
        form.form_errors.append(error)
    return render_template("auth/second_factor/reset.html", form=form, user=user,
                           must_enrol=policy.must_use_second_factor(user))


@route(bp, "/users/<int:user_id>/second-factor/reset",
       permission=policy.can_reset_second_factor, load={"user": by_id(User)},
       form=ResetSecondFactorForm, render=_render_reset)
def reset_second_factor(form, user):
    totp.reset(user, current_user, reason=form.reason.data or "")
    current_app.logger.info("second factor reset: %s by %s", user.email, current_user.email)
    flash(_("The two-factor sign-in of %(name)s is reset and their sessions have ended.",
            name=user.name), "success")
    return see_other("manager.users")


def _back_to_programme(form=None, error=None, programme=None):
    return back_to("manager.edit_programme", error or _("The form expired; save again."),
                   programme_id=programme.id)


@route(bp, "/programmes/<int:programme_id>/second-factor", permission=policy.can_run_programme,
       load={"programme": by_id(Programme)}, form=EvaluatorsSecondFactorForm,
       render=_back_to_programme, methods=("POST",))
def evaluators_second_factor(form, programme):
    required = bool(form.required.data)
    if totp.require_for_evaluators(programme, required, current_user):
        current_app.logger.info("evaluators' second factor %s for %s by %s",
                                "required" if required else "optional", programme.name,
                                current_user.email)
    flash(_("Evaluators now sign in with two-factor sign-in.") if required else
          _("Two-factor sign-in is now optional for evaluators."), "success")
    return see_other("manager.edit_programme", programme_id=programme.id)


@route(bp, "/invitations/<int:invitation_id>/revoke", permission=policy.can_revoke_invitation,
       load={"invitation": by_id(Invitation)}, render=_back_to_users, methods=("POST",))
def revoke_invitation(invitation):
    accounts.revoke_invitation(invitation, current_user)
    current_app.logger.info("invitation for %s withdrawn by %s", invitation.email,
                            current_user.email)
    flash(_("The invitation for %(email)s is withdrawn; its link no longer works.",
            email=invitation.email), "success")
    return see_other("manager.users")


def _partner_refused(form=None, error=None, **objects):
    problems = [str(e) for errors in (form.errors.values() if form else ()) for e in errors]
    return back_to("manager.users", error or " ".join(problems)
                   or _("The form expired; press the button again."))


@route(bp, "/users/<int:user_id>/partner", permission=policy.can_run_programme,
       load={"user": by_id(User)}, form=user_partner_form, render=_partner_refused,
       methods=("POST",))
def change_user_partner(form, user):
    partner_setup.set_user_partner(user, form.partner_id.data, current_user)
    current_app.logger.info("partner of %s set to %s by %s", user.email, user.partner_id,
                            current_user.email)
    flash(_("%(name)s's partner is saved.", name=user.name), "success")
    return see_other("manager.users")
