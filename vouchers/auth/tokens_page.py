"""The account's "API tokens" page: personal access tokens for the API (/api/v1).

A token's text is shown once, in the answer to the POST that made it, and nowhere
else: not in a URL (a Referer or an access log would carry it) and not in a flashed
message (the session cookie would). That answer is ``Cache-Control: no-store``, so
the back button does not bring it back either. Only the token's hash is kept
(services/api_tokens.py).
"""

from __future__ import annotations

from flask import current_app, flash, render_template
from flask_babel import gettext
from flask_login import current_user

from .. import policy
from ..boundary import back_to, by_id, route, see_other
from ..models import ApiToken
from ..models.base import utcnow
from ..services import api_tokens
from .forms import ActionForm
from .token_forms import NewTokenForm
from .views import _show, bp


def _html(form: NewTokenForm, *, secret: str | None = None,
          created: ApiToken | None = None) -> str:
    return render_template(
        "auth/tokens.html", form=form,
        tokens=api_tokens.tokens_of(current_user._get_current_object()), now=utcnow(),
        is_live=api_tokens.is_live, action_form=ActionForm(), secret=secret, created=created)


def _render(form: NewTokenForm, error: str | None = None):
    # Text, not a response: the boundary gives it the status of the refusal (400, 422).
    _show(form, error)
    return _html(form)


@route(bp, "/tokens", permission=policy.can_use_account, form=NewTokenForm, render=_render)
def api_tokens_page(form: NewTokenForm):
    token, secret = api_tokens.create(current_user._get_current_object(),
                                      name=form.name.data, scope=form.scope.data,
                                      days=form.days.data)
    # The page itself, not a redirect: the text must not travel through the session.
    response = current_app.make_response(
        _html(NewTokenForm(formdata=None), secret=secret, created=token))
    response.headers["Cache-Control"] = "no-store"
    return response


def _back(error: str | None = None, **_):
    return back_to("auth.api_tokens_page",
                   error or gettext("The token could not be revoked: reload the page and try "
                              "again."))


@route(bp, "/tokens/<int:token_id>/revoke", permission=policy.can_revoke_token,
       load={"token": by_id(ApiToken)}, form=ActionForm, render=_back, methods=("POST",))
def revoke_api_token(form: ActionForm, token: ApiToken):
    api_tokens.revoke(token, current_user._get_current_object())
    flash(gettext("The token “%(name)s” (%(prefix)s…) is revoked: it no longer works.",
            name=token.name, prefix=token.prefix), "success")
    return see_other("auth.api_tokens_page")
