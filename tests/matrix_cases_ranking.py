"""Authorization-matrix cases of the ranking routes (see tests/matrix_cases.py)."""

from __future__ import annotations

from tests.helpers import snapshot
from tests.matrix_cases import Post, case, url
from vouchers.services import funding_line, reserve


def _ranked(make):
    """A call whose market validation ranking holds one reviewed application."""
    application = make.application("under_review")
    return application, application.call_voucher_type


@case("manager.propose_funding_line")
def _(make):
    _, cvt = _ranked(make)
    before: list[dict] = []

    def nothing_committed() -> bool:
        # Proposing writes nothing, so there is no row to show it happened: asked before
        # the POST this notes the database and answers False; after it, whether the
        # database is as it was.
        if not before:
            before.append(snapshot())
            return False
        return snapshot() == before[0]

    # Success is the proposal drawn, with its Confirm form: a page, not a redirect.
    return Post("manager", make.manager(),
                url("manager.propose_funding_line", call_id=cvt.call_id,
                    voucher_type=cvt.voucher_type), status=200, done=nothing_committed)


@case("manager.confirm_funding_line")
def _(make):
    application, cvt = _ranked(make)
    proposal = funding_line.propose(cvt)
    return Post("manager", make.manager(),
                url("manager.confirm_funding_line", call_id=cvt.call_id,
                    voucher_type=cvt.voucher_type),
                data={"fingerprint": proposal.fingerprint, "basis": proposal.basis},
                done=lambda: application.state == "awarded")


@case("manager.promote_from_reserve")
def _(make):
    application = make.application("waitlisted")
    offer = reserve.offer_of(application.call_voucher_type)
    assert offer.first.application.id == application.id
    return Post("manager", make.manager(),
                url("manager.promote_from_reserve", application_id=application.id),
                data={"fingerprint": offer.fingerprint},
                done=lambda: application.state == "awarded")
