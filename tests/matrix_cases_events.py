"""Authorization-matrix cases of issue 10 (the event messages: the account's mail
settings); see tests/matrix_cases.py.

``world_args`` gives the world of tests/test_authorization_matrix.py the URL arguments
this part's routes need: /account/mail takes none.
"""

from __future__ import annotations

from tests.matrix_cases import Post, case, url


def world_args(make, users: dict, args: dict) -> dict:
    return {}


@case("auth.mail_settings")
def _(make):
    user = make.applicant()
    return Post("applicant", user, url("auth.mail_settings"), data={"delivery": "digest"},
                done=lambda: user.mail_digest is True)
