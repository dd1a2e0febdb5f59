"""The consensus page: the current version's reviews side by side, and the consensus form.

One page with two doors. Managers reach it in their area (/manage/...); the call's lead
evaluator, who is an evaluator and so never passes the manager blueprint's guard, in
theirs (/evaluate/...). Each blueprint keeps its role guard, and the route's own
predicate, policy.can_record_consensus, decides who of those gets in.
"""

from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..boundary import by_id, route, see_other
from ..evaluator.blueprint import bp as evaluator_bp
from ..models import Application
from ..services import consensus as consensus_service
from ..services import scoring
from .blueprint import bp
from .forms_consensus import ConsensusForm, consensus_form

RULE = "/applications/<int:application_id>/consensus"


def _form(application: Application) -> ConsensusForm:
    cvt = application.call_voucher_type
    return consensus_form(cvt.criteria, cvt.score_scale,
                          scoring.current_consensus(application))


def _draw(form: ConsensusForm, application: Application, error: str | None = None):
    return render_template(
        "manager/consensus.html", application=application, cvt=application.call_voucher_type,
        form=form, error=error, area=request.blueprint,
        # Managers see who scored what; the lead evaluator, as evaluators do, does not.
        named=policy.can_manage(current_user),
        page=consensus_service.consensus_page(application, current_user),
    )


def record_consensus(form: ConsensusForm, application: Application):
    consensus_service.record(application, current_user, form.scores(), form.comment.data,
                             form.notes())
    flash(_("Consensus recorded: ranking now uses its score."), "success")
    if request.blueprint == "manager":
        return see_other("manager.application", "scoring-heading",
                         application_id=application.id)
    return see_other("evaluator.consensus", application_id=application.id)


for _blueprint in (bp, evaluator_bp):
    route(_blueprint, RULE, permission=policy.can_record_consensus,
          load={"application": by_id(Application)}, form=_form, render=_draw,
          endpoint="consensus")(record_consensus)
