"""Accounts by e-mail: a forgotten password, confirming the address, changing it.

The links come by mail (services/account_links.py and account_tokens.py). Opening one
(GET) only shows a page; the change happens on its button or form (POST), so a mail
scanner that fetches links does not use them up. The pages whose URL carries a token
are sent with ``Referrer-Policy: no-referrer``, so the token never leaves in a Referer
header.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext, lazy_gettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import InputRequired

from .. import i18n, policy
from ..boundary import by, route, see_other
from ..services import account_links, account_tokens, accounts
from .account_forms import ChangeEmailForm, NewPasswordForm, RequestResetForm
from .forms import ActionForm
from .throttle import request_address
from .views import _show, _start_session, bp, first_url, home_url_for, safe_next

# The pages whose URL carries a secret token (the invitation's is in views.py).
TOKEN_PAGES = frozenset({"auth.reset_password", "auth.verify_email",
                         "auth.confirm_email_change", "auth.accept_invitation"})


@bp.after_request
def _no_referrer_on_token_pages(response):
    # Runs before the app's security headers (security.py), which only fill in defaults.
    if request.endpoint in TOKEN_PAGES:
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _link_gone(link, **_):
    """The 410 page of a link that does not work, saying how to get a new one."""
    problem = account_tokens.problem(link)
    if problem:
        return current_app.make_response(
            (render_template("auth/link_invalid.html", problem=problem, purpose=link.purpose),
             410))
    return None


def _is_owner_here(user) -> bool:
    """Whether this browser is logged in as ``user``."""
    return current_user.is_authenticated and current_user.id == user.id


# --- a forgotten password ----------------------------------------------------------------


def _render_request(form, error=None):
    _show(form, error)
    return render_template("auth/reset_request.html", form=form,
                           lifetime=account_tokens.lifetime_text(account_tokens.RESET))


@route(bp, "/reset", permission=policy.can_visit, form=RequestResetForm,
       render=_render_request)
def request_reset(form):
    account_links.request_reset(form.email.data.strip(), request_address())
    return see_other("auth.reset_sent")


@route(bp, "/reset/sent", permission=policy.can_visit)
def reset_sent():
    return render_template("auth/reset_sent.html",
                           lifetime=account_tokens.lifetime_text(account_tokens.RESET))


def _render_reset(form, link, error=None):
    _show(form, error)
    return _link_gone(link) or render_template("auth/reset_password.html", form=form,
                                               link=link)


@route(bp, "/reset/<reset_token>", permission=policy.can_visit,
       load={"link": by("reset_token", account_links.reset_link)},
       form=lambda link: NewPasswordForm(link.user), render=_render_reset, before=_link_gone)
def reset_password(form, link):
    account_links.reset_password(link, form.password.data)
    logout_user()
    session.clear()  # every session of the account ended; this browser starts afresh
    flash(gettext("Your new password is set, and every session of your account has ended. "
                  "Log in with the new password."), "success")
    return see_other("public.index")


# --- confirming the address of a new account -------------------------------------------


def _render_verify(form, link, error=None):
    _show(form, error)
    return _link_gone(link) or render_template("auth/verify_email.html", form=form,
                                               link=link)


@route(bp, "/verify/<verify_token>", permission=policy.can_visit,
       load={"link": by("verify_token", account_links.verify_link)}, form=ActionForm,
       render=_render_verify, before=_link_gone)
def verify_email(form, link):
    user = account_tokens.verify_email(link)
    # Reading the mail proved the address: this finishes the registration, which logs
    # nobody in (services/logins.register).
    _start_session(user)
    if user.role == "applicant" and user.organisation_id is None:
        flash(gettext("Thank you: your address %(email)s is confirmed, and you are logged "
                      "in. Now tell us about your company.", email=user.email), "success")
        return redirect(first_url("applicant.profile"), code=303)
    flash(gettext("Thank you: your address %(email)s is confirmed, and you are logged in.",
                  email=user.email), "success")
    return redirect(home_url_for(user), code=303)


def _back_home(error=None):
    flash(error, "error")
    return redirect(home_url_for(current_user), code=303)


@route(bp, "/verify-again", permission=policy.can_use_account, render=_back_home,
       methods=("POST",))
def send_verification_again():
    user = current_user._get_current_object()
    account_tokens.send_verification_again(user, request_address())
    flash(gettext("We sent a new link to %(email)s. It works for %(lifetime)s.",
                  email=user.email,
                  lifetime=account_tokens.lifetime_text(account_tokens.VERIFY)), "success")
    return redirect(home_url_for(user), code=303)


# --- changing the e-mail address -------------------------------------------------------


def _render_change(form, error=None):
    _show(form, error, form.current_password
          if error == gettext(accounts.WRONG_PASSWORD) else None)
    return render_template("auth/change_email.html", form=form,
                           lifetime=account_tokens.lifetime_text(account_tokens.EMAIL_CHANGE))


@route(bp, "/email", permission=policy.can_use_account, form=ChangeEmailForm,
       render=_render_change)
def change_email(form):
    user = current_user._get_current_object()
    sent_to = account_links.request_email_change(user, form.new_email.data,
                                                 form.current_password.data, request_address())
    flash(gettext("We sent a link to the new address, %(new)s. Your address changes when "
                  "you follow it; until then it stays %(old)s.", new=sent_to, old=user.email),
          "success")
    return redirect(home_url_for(user), code=303)


def _render_confirm(form, link, error=None):
    _show(form, error)
    return _link_gone(link) or render_template("auth/confirm_email_change.html", form=form,
                                               link=link)


@route(bp, "/email/<change_token>", permission=policy.can_visit,
       load={"link": by("change_token", account_links.email_change_link)}, form=ActionForm,
       render=_render_confirm, before=_link_gone)
def confirm_email_change(form, link):
    here = _is_owner_here(link.user)  # asked before the sessions end
    user = account_links.confirm_email_change(link)
    flash(gettext("Your e-mail address is now %(email)s: log in with it from now on. Your "
                  "other sessions have ended.", email=user.email), "success")
    if here:
        login_user(user)  # the other sessions ended with the old generation; this one goes on
        return redirect(home_url_for(user), code=303)
    return see_other("public.index")


# --- the language of the pages and mail (vouchers/i18n.py) ------------------------------


class LanguageForm(FlaskForm):
    language = SelectField(lazy_gettext("Language"),
                           # "Català" read as Catalan by a screen reader, not English
                           choices=[SelectChoice(code, name, render_kw={"lang": code})
                                    for code, name in i18n.LANGUAGES.items()],
                           validators=[InputRequired(lazy_gettext("Choose a language."))])
    # The page the picker sat on: the reader stays where they were.
    next = HiddenField()


def _language_form() -> LanguageForm:
    # The footer's picker comes here by GET with the language chosen and the page it was
    # on (templates/base.html); the button of this page saves it.
    chosen = request.args.get("language")
    return LanguageForm(data={
        "language": chosen if chosen in i18n.LANGUAGES else str(get_locale() or i18n.DEFAULT),
        "next": safe_next(request.args.get("next")) or ""})


def _render_language(form, error=None):
    _show(form, error)
    return render_template("auth/language.html", form=form)


# Visitors choose too (the footer's picker), so no sign-in is needed; a signed-in user's
# choice is kept on the account, which the mail follows.
@route(bp, "/language", permission=policy.can_visit, form=_language_form,
       render=_render_language)
def language(form):
    i18n.set_language(current_user, form.language.data)
    flash(gettext("The pages are now shown in %(language)s.",
                  language=i18n.LANGUAGES[form.language.data]), "success")
    return redirect(safe_next(form.next.data) or url_for("auth.language"), code=303)
