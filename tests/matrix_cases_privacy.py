"""Authorization-matrix cases of issue 14's privacy part; see tests/matrix_cases.py.

Its pages: the privacy notice (``public.privacy_notice``, everyone), the applicant's "My
data" page and zip (``applicant.my_data``, ``applicant.my_data_zip``: can_apply, each
applicant their own) and the confirmation page of erasing a company
(``manager.anonymise_organisation``, can_run_programme, on the world's ``organisation_id``:
its GET shows why the world's company cannot be erased yet). The GET matrix requests them
with the world's arguments; the POST that erases a company is the case below.
"""

from __future__ import annotations

from tests.matrix_cases import Post, case, url


@case("manager.anonymise_organisation")
def _(make):
    # A company that never received aid: its one application was rejected.
    application = make.application("rejected")
    organisation = application.organisation
    return Post("manager", make.manager(),
                url("manager.anonymise_organisation", organisation_id=organisation.id),
                data={"reason": "Asked by the SME", "understood": "y"},
                done=lambda: organisation.anonymised_at is not None)
