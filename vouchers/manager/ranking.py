"""Per call and voucher type: the ranked list, the proposed funding line and its
confirmation; promotion from the reserve list offered on the call's dashboard."""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..boundary import Loader, back_to, by_id, route, see_other
from ..formatting import eur
from ..models import Application, CallVoucherType
from ..models.base import utcnow
from ..services import funding_line, ranking, reserve
from .blueprint import bp
from .forms_ranking import ConfirmForm, PromoteForm, ProposeForm

RULE = "/calls/<int:call_id>/ranking/<voucher_type>"


def _call_type(key: str) -> Loader:
    """The call's voucher type named in the URL (404 if the call does not offer it)."""
    return Loader("voucher_type",
                  lambda value, loaded: ranking.call_voucher_type(loaded["call_id"], value))


TYPE = {"cvt": _call_type}


def _ranking_page(cvt: CallVoucherType, error: str | None = None, form=None):
    if error is None and form is not None and form.errors:
        error = " ".join(str(m) for messages in form.errors.values() for m in messages)
    return render_template("manager/ranking.html", cvt=cvt, call=cvt.call, error=error,
                           entries=ranking.ranked(cvt, utcnow()), tie_break=_(ranking.TIE_BREAK),
                           propose_form=ProposeForm(formdata=None))


def _refused(*, cvt: CallVoucherType, error: str | None = None, form=None, **_):
    return _ranking_page(cvt, error, form)


@route(bp, RULE, permission=policy.can_view_ranking, load=TYPE, endpoint="ranking")
def ranking_page(call_id: int, cvt: CallVoucherType):
    return _ranking_page(cvt)


@route(bp, RULE + "/propose", methods=("POST",), permission=policy.can_decide_funding,
       load=TYPE, form=ProposeForm, render=_refused)
def propose_funding_line(form: ProposeForm, call_id: int, cvt: CallVoucherType):
    proposal = funding_line.propose(cvt, utcnow())
    confirm = ConfirmForm(formdata=None, fingerprint=proposal.fingerprint,
                          basis=proposal.basis)
    return render_template("manager/ranking_proposal.html", cvt=cvt, call=cvt.call,
                           proposal=proposal, confirm_form=confirm,
                           tie_break=_(ranking.TIE_BREAK))


@route(bp, RULE + "/confirm", methods=("POST",), permission=policy.can_decide_funding,
       load=TYPE, form=ConfirmForm, render=_refused)
def confirm_funding_line(form: ConfirmForm, call_id: int, cvt: CallVoucherType):
    done = funding_line.confirm(cvt, current_user, form.fingerprint.data, utcnow(),
                                basis=form.basis.data)
    flash(_("Funding line applied: %(awarded)s awarded (%(total)s), %(waitlisted)s "
            "waitlisted, %(rejected)s rejected.", awarded=len(done.awards),
            total=eur(done.awarded_total),
            waitlisted=len([w for w in done.waitlisted if w.applies]),
            rejected=len(done.rejected)), "success")
    return see_other("manager.ranking", call_id=cvt.call_id, voucher_type=cvt.voucher_type)


def _not_promoted(*, application: Application, error: str | None = None, form=None):
    messages = [str(error)] if error else [str(m) for ms in form.errors.values() for m in ms]
    return back_to("manager.dashboard", _("Not promoted: %(why)s", why=" ".join(messages)),
                   call_id=application.call_id, _anchor="reserve-offers")


@route(bp, "/applications/<int:application_id>/promote", methods=("POST",),
       permission=policy.can_promote_from_reserve, load={"application": by_id(Application)},
       form=PromoteForm, render=_not_promoted, endpoint="promote_from_reserve")
def promote_from_reserve(form: PromoteForm, application: Application):
    line = reserve.promote(application, current_user, form.fingerprint.data, utcnow())
    flash(_("%(reference)s promoted from the reserve list: %(amount)s awarded.",
            reference=application.reference, amount=eur(line.amount)), "success")
    return see_other("manager.dashboard", "reserve-offers", call_id=application.call_id)
