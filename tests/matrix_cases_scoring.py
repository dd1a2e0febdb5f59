"""Authorization-matrix cases of the scoring routes (see tests/matrix_cases.py)."""

from __future__ import annotations

from tests.matrix_cases import Post, case, count, url
from tests.scoring_support import score
from vouchers.extensions import db
from vouchers.models import Consensus


def _reviewed(make):
    manager = make.manager()
    application = make.application("submitted", manager=manager)
    score(application, make.evaluator(), manager, 3, 4)
    return application, manager


def _consensus_data(application) -> dict:
    return {"comment": "Agreed after discussion.",
            **{f"score_{c.id}": "4" for c in application.call_voucher_type.criteria}}


def _recorded(application):
    return lambda: count(Consensus, Consensus.application_id == application.id) == 1


@case("manager.consensus")
def _(make):
    application, manager = _reviewed(make)
    return Post("manager", manager, url("manager.consensus", application_id=application.id),
                data=_consensus_data(application), done=_recorded(application))


@case("evaluator.consensus")
def _(make):
    application, _ = _reviewed(make)
    lead = make.evaluator()
    application.call.lead_evaluator_id = lead.id
    db.session.commit()
    return Post("evaluator", lead, url("evaluator.consensus", application_id=application.id),
                data=_consensus_data(application), done=_recorded(application))
