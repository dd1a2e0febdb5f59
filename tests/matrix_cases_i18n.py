"""Authorization-matrix case of issue 14 (languages: the language picker); see
tests/matrix_cases.py. /account/language takes no URL argument."""

from __future__ import annotations

from tests.matrix_cases import Post, case, url


@case("auth.language")
def _(make):
    user = make.applicant()
    return Post("applicant", user, url("auth.language"), data={"language": "ca"},
                done=lambda: user.language == "ca")
