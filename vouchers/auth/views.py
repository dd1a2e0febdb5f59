"""Logging in and out, registering, changing the password, accepting an invitation."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_user, logout_user
from werkzeug.routing import BuildError

from .. import policy
from ..boundary import by, route, see_other
from ..extensions import login_manager
from ..models import User
from ..services import account_tokens, accounts, logins
from .forms import AcceptInvitationForm, ChangePasswordForm, LoginForm, RegisterForm
from .throttle import request_address

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = lazy_gettext("Please log in to see this page.")
# Flashed as text in the reader's language: a lazy string cannot go into the session.
login_manager.localize_callback = str
login_manager.login_message_category = "info"

# Each role's start page, best first: the pages are built by other features, so the
# first one that exists wins.
HOME_ENDPOINTS = {
    "applicant": ("applicant.home", "applicant.profile"),
    "evaluator": ("evaluator.home", "evaluator.assignments"),
    "manager": ("manager.dashboard_home", "manager.dashboard", "manager.home",
                "manager.applications", "manager.calls", "manager.users"),
}


def first_url(*endpoints: str, default: str = "/") -> str:
    for endpoint in endpoints:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint)
            except BuildError:  # the endpoint needs arguments: not a start page
                continue
    return default


def home_url_for(user: User) -> str:
    """Where ``user`` lands after logging in."""
    return first_url(*HOME_ENDPOINTS.get(user.role, ()))


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _start_session(user: User) -> None:
    # A fresh session (and with it a fresh CSRF token) for the new identity, so nothing
    # planted in the session before the login carries over.
    session.clear()
    login_user(user)


def _show(form, error: str | None, field=None) -> None:
    """Put a service's refusal next to ``field`` if given, else above the form."""
    if error:
        (field.errors if field is not None else form.form_errors).append(error)


def _go_home_if_signed_in():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or home_url_for(current_user))
    return None


# --- logging in and out --------------------------------------------------------------------


def _render_login(form, error=None):
    _show(form, error)
    return render_template("auth/login.html", form=form,
                           next_url=safe_next(request.args.get("next")))


@route(bp, "/login", permission=policy.can_visit, form=LoginForm, render=_render_login,
       before=_go_home_if_signed_in)
def login(form):
    user = logins.log_in(form.email.data.strip(), form.password.data, request_address())
    # A user with a second factor is not signed in yet: the code step comes first.
    return second_factor.after_password(user, safe_next(request.args.get("next")))


def _render_home(error=None):
    flash(error, "error")
    return see_other("public.index")


@route(bp, "/logout", permission=policy.can_visit, render=_render_home, methods=("POST",))
def logout():
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        # Ends this user's sessions everywhere, not only in this browser: a copied
        # cookie stops working too.
        accounts.end_sessions(user)
        current_app.logger.info("logout: %s from %s", user.email, request_address())
        logout_user()
    session.clear()
    flash(gettext("You are logged out."), "success")
    return see_other("public.index")


# --- registering and passwords ------------------------------------------------------------


def _render_register(form, error=None):
    _show(form, error)
    return render_template("auth/register.html", form=form)


@route(bp, "/register", permission=policy.can_visit, form=RegisterForm,
       render=_render_register, before=_go_home_if_signed_in)
def register(form):
    # The same answer whether or not the address has an account: its owner is mailed
    # instead (services/logins.register); the mailed link logs a new applicant in.
    session["registered_email"] = logins.register(
        email=form.email.data, name=form.name.data, password=form.password.data,
        address=request_address(), read_privacy_notice=form.privacy_notice.data)
    return see_other("auth.registered")


@route(bp, "/register/sent", permission=policy.can_visit)
def registered():
    return render_template("auth/registered.html", email=session.get("registered_email"),
                           lifetime=account_tokens.lifetime_text(account_tokens.VERIFY))


def _render_password(form, error=None):
    _show(form, error, form.current_password
          if error == gettext(accounts.WRONG_PASSWORD) else None)
    return render_template("auth/change_password.html", form=form)


@route(bp, "/password", permission=policy.can_use_account,
       form=lambda: ChangePasswordForm(current_user), render=_render_password)
def change_password(form):
    user = current_user._get_current_object()
    logins.change_password(user, form.current_password.data, form.new_password.data,
                           request_address())
    login_user(user)  # the other sessions ended with the old generation; this one goes on
    flash(gettext("Your password is changed. Any other sessions of yours have been logged out."),
          "success")
    return redirect(home_url_for(user), code=303)


# --- invitations ---------------------------------------------------------------------------


def _invitation_gone(invitation):
    problem = accounts.invitation_problem(invitation)
    if problem:
        return current_app.make_response(
            (render_template("auth/invitation_invalid.html", problem=problem), 410))
    return None


def _render_invitation(form, invitation, error=None):
    _show(form, error)
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation)


@route(bp, "/invitation/<token>", permission=policy.can_visit,
       load={"invitation": by("token", accounts.find_invitation)},
       form=lambda invitation: AcceptInvitationForm(invitation), render=_render_invitation,
       before=_invitation_gone)
def accept_invitation(form, invitation):
    user = accounts.accept_invitation(invitation, form.password.data)
    _start_session(user)
    current_app.logger.info("invitation accepted: %s (%s, id %s) from %s", user.email,
                            user.role, user.id, request_address())
    flash(gettext("Welcome, %(name)s. Your account is ready.", name=user.name), "success")
    return redirect(home_url_for(user), code=303)


# On this blueprint too: the pages of accounts by e-mail (a forgotten password, confirming
# or changing the address; account_pages.py) and the account's mail settings (each message
# at once, or a daily digest; settings.py), the API tokens (tokens_page.py) and two-factor
# sign-in (second_factor.py: the login's code step, enrolling).
from . import account_pages, second_factor, settings, tokens_page  # noqa: E402, F401
