"""Authorization-matrix cases of issue 10 (accounts by e-mail: password reset, verification, e-mail
change); see tests/matrix_cases.py.

``world_args`` gives the world of tests/test_authorization_matrix.py the URL arguments
this part's routes need (``users`` and ``args`` are the world's so far): a working reset
link, a verification link of an account still unconfirmed and an e-mail change link. A
GET only shows their page, so every persona may open them and none is used up.
"""

from __future__ import annotations

from tests.factories import PASSWORD
from tests.matrix_cases import Post, case, count, url
from vouchers.extensions import db
from vouchers.models import AccountToken
from vouchers.services import account_tokens, accounts


def _unverified(make):
    user = make.applicant()
    user.email_verified_at = None
    db.session.commit()
    return user


def _link(user, purpose: str, **kwargs) -> str:
    _, token = account_tokens.issue(user, purpose, **kwargs)
    db.session.commit()
    return token


def world_args(make, users: dict, args: dict) -> dict:
    other = users["other_applicant"]
    return {
        "reset_token": _link(other, account_tokens.RESET),
        "verify_token": _link(_unverified(make), account_tokens.VERIFY),
        "change_token": _link(other, account_tokens.EMAIL_CHANGE,
                              new_email="moved@world.example"),
    }


def _tokens(purpose: str, user=None) -> int:
    where = [AccountToken.purpose == purpose]
    if user is not None:
        where.append(AccountToken.user_id == user.id)
    return count(AccountToken, *where)


@case("auth.request_reset")
def _(make):
    user = make.applicant()
    return Post("anonymous", None, url("auth.request_reset"), data={"email": user.email},
                done=lambda: _tokens(account_tokens.RESET, user) == 1)


@case("auth.reset_password")
def _(make):
    user = make.evaluator()
    token = _link(user, account_tokens.RESET)
    data = {"password": "harbour quince lantern", "confirm": "harbour quince lantern"}
    return Post("anonymous", None, url("auth.reset_password", reset_token=token), data=data,
                done=lambda: accounts.verify_password(user, "harbour quince lantern"))


@case("auth.verify_email")
def _(make):
    user = _unverified(make)
    token = _link(user, account_tokens.VERIFY)
    return Post("anonymous", None, url("auth.verify_email", verify_token=token),
                done=lambda: user.email_verified_at is not None)


@case("auth.send_verification_again")
def _(make):
    user = _unverified(make)
    return Post("applicant", user, url("auth.send_verification_again"),
                done=lambda: _tokens(account_tokens.VERIFY, user) == 1)


@case("auth.change_email")
def _(make):
    user = make.evaluator()
    data = {"new_email": "new-home@x.example", "current_password": PASSWORD}
    return Post("evaluator", user, url("auth.change_email"), data=data,
                done=lambda: _tokens(account_tokens.EMAIL_CHANGE, user) == 1)


@case("auth.confirm_email_change")
def _(make):
    user = make.applicant()
    token = _link(user, account_tokens.EMAIL_CHANGE, new_email="moved@x.example")
    return Post("anonymous", None, url("auth.confirm_email_change", change_token=token),
                done=lambda: user.email == "moved@x.example")
