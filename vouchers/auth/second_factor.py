"""Two-factor sign-in pages: the login's code step, enrolling an authenticator app (a QR
code or the secret typed in), the recovery codes (shown once), turning it off where no
rule requires it. The rules are services/totp.py's and policy.must_use_second_factor.

Between the password and the code nobody is signed in: the session holds only
``PENDING`` (the user's id, session generation and a deadline a few minutes away), which
the code page alone reads. A stale, ended or tampered state sends the browser back to the
login. Once the code is right the session starts afresh, marked ``PASSED`` with the
user's id.

The gate below runs before every request of a signed-in browser. A user whose second
factor is on but whose session never passed the code step (a session opened elsewhere
before they enrolled) is signed out. A user who must have a second factor and has none
(a manager; an evaluator once a programme requires it) reaches the enrolment pages and
logging out only. Personal access tokens of the API are not gated: one is made after a
full sign-in, on the account page.
"""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, logout_user

from .. import policy
from ..api.problems import for_api, problem
from ..boundary import back_to, route, see_other
from ..models import User
from ..models.base import MAX_ID, utcnow
from ..services import accounts, totp
from .forms import ActionForm
from .second_factor_forms import ConfirmAuthenticatorForm, CurrentCodeForm, SignInCodeForm
from .throttle import request_address
from .views import _show, _start_session, bp, home_url_for, safe_next

PENDING = "second_factor_pending"
PASSED = "second_factor_passed"
PENDING_SECONDS = 5 * 60
# What a signed-in user who must enrol may still reach.
ENROLMENT_ENDPOINTS = frozenset({"auth.second_factor", "auth.start_second_factor",
                                 "auth.confirm_second_factor", "auth.logout", "auth.login",
                                 "static"})


# --- between the password and the code ---------------------------------------------------


def after_password(user: User, next_url: str | None):
    """Where a correct password leads: the code step for a user with a second factor,
    else straight in (the gate then sends one who must enrol to the enrolment page)."""
    if not totp.is_enabled(user):
        _start_session(user)
        return redirect(next_url or home_url_for(user), code=303)
    session.clear()
    session[PENDING] = {"user": user.id, "generation": user.session_generation,
                        "until": int(utcnow().timestamp()) + PENDING_SECONDS,
                        "next": next_url}
    return see_other("auth.second_factor_code")


def pending_state(user: User) -> dict:
    """The session's half-signed-in state for ``user``, as after_password leaves it."""
    return {"user": user.id, "generation": user.session_generation,
            "until": int(utcnow().timestamp()) + PENDING_SECONDS, "next": None}


def _pending_user() -> User | None:
    """The user whose code the session waits for, if the state is sound and fresh."""
    state = session.get(PENDING)
    if not isinstance(state, dict):
        return None
    user_id, generation, until = (state.get(k) for k in ("user", "generation", "until"))
    if not all(type(v) is int for v in (user_id, generation, until)):
        return None
    if not 0 < user_id <= MAX_ID or until < utcnow().timestamp():
        return None
    user = accounts.session_user(user_id, generation)
    return user if user is not None and totp.is_enabled(user) else None


def _before_code(**_):
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    if PENDING not in session:
        return None  # the page says there is nothing to type a code for
    if _pending_user() is None:
        session.clear()
        flash(gettext("Your sign-in was not finished in time. Log in again."), "error")
        return see_other("auth.login")
    return None


def _render_code(form, error=None):
    if PENDING not in session:
        if request.method != "GET":
            return see_other("auth.login")
        return render_template("auth/second_factor/nothing_waiting.html")
    _show(form, error, form.code if error else None)
    return render_template("auth/second_factor/code.html", form=form)


@route(bp, "/login/code", permission=policy.can_visit, form=SignInCodeForm,
       render=_render_code, before=_before_code)
def second_factor_code(form):
    user = _pending_user()
    if user is None:  # _before_code found it sound a moment ago; ended since
        return see_other("auth.login")
    how = totp.verify(user, form.code.data, request_address())
    next_url = safe_next(session[PENDING].get("next"))
    _start_session(user)
    session[PASSED] = user.id
    current_app.logger.info("login completed with a %s: %s (id %s)", how, user.email, user.id)
    if how == "recovery":
        left = totp.recovery_codes_left(user)
        flash(gettext("You signed in with a recovery code; it no longer works. %(left)s of "
                      "them left: make new ones on your two-factor page when few remain.",
                      left=left), "info")
    return redirect(next_url or home_url_for(user), code=303)


# --- the gate ----------------------------------------------------------------------------


@bp.before_app_request
def _second_factor_gate():
    if for_api() and request.headers.get("Authorization"):
        return None  # a personal access token: made after a full sign-in
    if not current_user.is_authenticated or session.get(PASSED) == current_user.id:
        return None
    if totp.is_enabled(current_user):
        logout_user()
        session.clear()
        if for_api():
            return problem(401, gettext("Log in again: this session did not pass two-factor "
                                  "sign-in."))
        flash(gettext("Log in again: your account now signs in with a code."), "info")
        return redirect(url_for("auth.login"))
    if request.endpoint in ENROLMENT_ENDPOINTS or not policy.must_use_second_factor(
            current_user):
        return None
    if for_api():
        return problem(403, gettext("Set up two-factor sign-in on the pages first."))
    flash(gettext("Your role signs in with two-factor sign-in: set it up before you go on."),
          "info")
    return redirect(url_for("auth.second_factor"))


# --- the owner's pages ---------------------------------------------------------------------


# Pages with secrets on them (the QR code, recovery codes): no cache keeps a copy.
NO_STORE_ENDPOINTS = frozenset({"auth.second_factor", "auth.confirm_second_factor",
                                "auth.new_recovery_codes", "auth.second_factor_code"})


@bp.after_request
def _no_store(response):
    if request.endpoint in NO_STORE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


def _overview_page():
    user = current_user._get_current_object()
    enabled = totp.is_enabled(user)
    return render_template(
        "auth/second_factor/overview.html", user=user, enabled=enabled,
        pending=totp.pending_secret(user) is not None,
        required=policy.must_use_second_factor(user),
        codes_left=totp.recovery_codes_left(user) if enabled else 0,
        start_form=ActionForm(), renew_form=CurrentCodeForm(prefix="renew"),
        off_form=CurrentCodeForm(prefix="off"))


def _back_to_overview(form=None, error=None):
    """A refusal of one of the overview's buttons: its message above the page."""
    # Text, not lazy strings: the message is joined and flashed into the session.
    messages = [error] if error else [str(e) for f in (form or ()) for e in f.errors]
    return back_to("auth.second_factor", " ".join(messages)
                   or gettext("The form expired; press the button again."))


@route(bp, "/second-factor", permission=policy.can_use_account)
def second_factor():
    return _overview_page()


@route(bp, "/second-factor/start", permission=policy.can_use_account, form=ActionForm,
       render=_back_to_overview, methods=("POST",))
def start_second_factor(form):
    totp.begin_enrolment(current_user._get_current_object())
    return see_other("auth.confirm_second_factor")


def _nothing_to_confirm(**_):
    if totp.pending_secret(current_user) is None:
        return see_other("auth.second_factor")
    return None


def _render_confirm(form, error=None):
    user = current_user._get_current_object()
    secret = totp.pending_secret(user)
    if secret is None:  # turned on in another tab meanwhile
        return see_other("auth.second_factor")
    _show(form, error, form.code if error else None)
    uri = totp.provisioning_uri(user, secret)
    return render_template("auth/second_factor/enrol.html", form=form,
                           qr_svg=totp.qr_svg(uri), secret=totp.grouped(secret), uri=uri)


@route(bp, "/second-factor/confirm", permission=policy.can_use_account,
       form=ConfirmAuthenticatorForm, render=_render_confirm, before=_nothing_to_confirm)
def confirm_second_factor(form):
    user = current_user._get_current_object()
    codes = totp.confirm_enrolment(user, form.code.data, request_address())
    session[PASSED] = user.id  # this session proved the new factor
    return _shown_once(codes, first=True)


def _shown_once(codes: list[str], *, first: bool):
    # Drawn in the answer to the POST, never stored in the session (a cookie is readable)
    # and never again: reloading cannot show them.
    return render_template("auth/second_factor/recovery_codes.html", codes=codes,
                           first=first)


@route(bp, "/second-factor/recovery-codes", permission=policy.can_use_account,
       form=lambda: CurrentCodeForm(prefix="renew"),
       render=_back_to_overview, methods=("POST",))
def new_recovery_codes(form):
    codes = totp.replace_recovery_codes(current_user._get_current_object(), form.code.data,
                                        request_address())
    return _shown_once(codes, first=False)


@route(bp, "/second-factor/off", permission=policy.can_use_account,
       form=lambda: CurrentCodeForm(prefix="off"),
       render=_back_to_overview, methods=("POST",))
def turn_off_second_factor(form):
    totp.turn_off(current_user._get_current_object(), form.code.data, request_address())
    flash(gettext("Two-factor sign-in is off. You sign in with your password alone."), "success")
    return see_other("auth.second_factor")
