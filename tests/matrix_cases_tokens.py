"""Authorization-matrix cases of issue 13's account page "API tokens"; see
tests/matrix_cases.py.

``world_args`` gives the world of tests/test_authorization_matrix.py a token of the
world's applicant (``token_id``): only they may revoke it (ALLOWED_BY's
``can_revoke_token``), everyone else gets a 404.
"""

from __future__ import annotations

from tests.matrix_cases import Post, case, count, url
from vouchers.extensions import db
from vouchers.models import ApiToken
from vouchers.services import api_tokens


def _token_of(user) -> ApiToken:
    token, _ = api_tokens.create(user, name="world script", scope="read", days=30)
    db.session.commit()
    return token


def world_args(make, users: dict, args: dict) -> dict:
    return {"token_id": _token_of(users["applicant"]).id}


@case("auth.api_tokens_page")
def _(make):
    user = make.evaluator()
    # The answer is the page showing the new token once, not a redirect.
    return Post("evaluator", user, url("auth.api_tokens_page"),
                data={"name": "my script", "scope": "write", "days": "30"}, status=200,
                done=lambda: count(ApiToken, ApiToken.user_id == user.id,
                                   ApiToken.scope == "write") == 1)


@case("auth.revoke_api_token")
def _(make):
    user = make.applicant()
    token = _token_of(user)
    return Post("applicant", user, url("auth.revoke_api_token", token_id=token.id),
                done=lambda: db.session.get(ApiToken, token.id).revoked_at is not None)
