"""Logging in and out, registering, changing the password, accepting an invitation."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.routing import BuildError

from ..extensions import db, login_manager
from ..models import User
from ..services import accounts
from ..services.errors import DomainError
from . import throttle
from .forms import AcceptInvitationForm, ChangePasswordForm, LoginForm, RegisterForm

bp = Blueprint("auth", __name__)
# Recorded as the "account" of a registration that hit an existing address: no real
# address looks like it, so it only ever counts against the requester's address.
REGISTRATION_PROBE = "(registration)"

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see this page."
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


def _address() -> str:
    return throttle.address_key(request.remote_addr)


def _start_session(user: User) -> None:
    # A fresh session (and with it a fresh CSRF token) for the new identity, so nothing
    # planted in the session before the login carries over.
    session.clear()
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or home_url_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        email, address = form.email.data.strip(), _address()
        try:
            throttle.check(email, address)
            user = accounts.authenticate(email, form.password.data)
        except throttle.LoginThrottled as exc:
            current_app.logger.warning("login throttled: %r from %s", email, address)
            form.form_errors.append(exc.message)
            response = current_app.make_response(
                (render_template("auth/login.html", form=form, next_url=next_url), 429))
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except accounts.LoginRefused as exc:
            throttle.record_failure(email, address)
            db.session.commit()
            current_app.logger.warning("failed login: %r from %s (%s)", email, address,
                                       type(exc).__name__)
            form.form_errors.append(exc.message)
        else:
            throttle.clear_account(email)
            _start_session(user)
            db.session.commit()
            current_app.logger.info("login: %s (%s, id %s) from %s", user.email, user.role,
                                    user.id, address)
            return redirect(next_url or home_url_for(user))
    return render_template("auth/login.html", form=form, next_url=next_url)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        # Ends this user's sessions everywhere, not only in this browser: a copied
        # cookie stops working too.
        accounts.end_sessions(user)
        db.session.commit()
        current_app.logger.info("logout: %s from %s", user.email, _address())
        logout_user()
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for("public.index"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    form = RegisterForm()
    if request.method == "POST":
        # Registration says whether an address has an account, so probing it for many
        # addresses counts against the address like failed logins do.
        try:
            throttle.check_address(_address())
        except throttle.LoginThrottled as exc:
            form.form_errors.append(exc.message)
            return render_template("auth/register.html", form=form), 429
    if form.validate_on_submit():
        try:
            user = accounts.register_applicant(email=form.email.data, name=form.name.data,
                                               password=form.password.data)
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            _start_session(user)
            db.session.commit()
            current_app.logger.info("registered: %s (applicant, id %s) from %s", user.email,
                                    user.id, _address())
            flash("Your account is ready. Now tell us about your company.", "success")
            return redirect(first_url("applicant.profile"))
    if form.email_taken:
        throttle.record_failure(REGISTRATION_PROBE, _address())
        db.session.commit()
    return render_template("auth/register.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(user)
    if form.validate_on_submit():
        address = _address()
        try:
            # Guessing the current password from a stolen session is throttled like a login.
            throttle.check(user.email, address)
            accounts.change_password(user, form.current_password.data, form.new_password.data)
        except throttle.LoginThrottled as exc:
            form.form_errors.append(exc.message)
            return render_template("auth/change_password.html", form=form), 429
        except accounts.WrongPassword as exc:
            throttle.record_failure(user.email, address)
            db.session.commit()
            current_app.logger.warning("failed password change: %s from %s", user.email,
                                       address)
            form.current_password.errors.append(exc.message)
        except DomainError as exc:
            form.form_errors.append(exc.message)
        else:
            # The other sessions ended with the old generation; this one carries on.
            login_user(user)
            db.session.commit()
            current_app.logger.info("password changed: %s from %s", user.email, address)
            flash("Your password is changed. Any other sessions of yours have been logged out.",
                  "success")
            return redirect(home_url_for(user))
    return render_template("auth/change_password.html", form=form)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation = accounts.find_invitation(token)
    if invitation is None:
        abort(404)
    problem = accounts.invitation_problem(invitation)
    if problem:
        return render_template("auth/invitation_invalid.html", problem=problem), 410
    form = AcceptInvitationForm(invitation)
    if form.validate_on_submit():
        try:
            user = accounts.accept_invitation(invitation, form.password.data)
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            _start_session(user)
            db.session.commit()
            current_app.logger.info("invitation accepted: %s (%s, id %s) from %s", user.email,
                                    user.role, user.id, _address())
            flash(f"Welcome, {user.name}. Your account is ready.", "success")
            return redirect(home_url_for(user))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation)
