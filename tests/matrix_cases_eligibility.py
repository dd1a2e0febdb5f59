"""Authorization-matrix cases of the eligibility routes (see tests/matrix_cases.py)."""

from __future__ import annotations

from tests.matrix_cases import Post, case, count, url
from vouchers.models import EligibilityOverride


@case("manager.accept_exception")
def _(make):
    # A company outside every partner region: the region rule fails.
    a = make.application("submitted", applicant=make.applicant(country="AT", region="Tyrol"))
    return Post("manager", make.manager(),
                url("manager.accept_exception", application_id=a.id, rule="region"),
                data={"accept-region-reason": "Tyrol joins the programme in its second phase."},
                done=lambda: count(EligibilityOverride,
                                   EligibilityOverride.application_id == a.id) == 1)
