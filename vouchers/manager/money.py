"""A voucher's money on its page: reversing a recorded payment, recording a recovery.

Recording a payment is one of the page's actions (vouchers/manager/applications.py, at
/applications/<id>/actions/record_payment); these two act on the money itself. Each
draws the application's page again with the service's message next to its form when it
is refused, and goes back to the page's money section when it is done.
"""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_login import current_user

from .. import policy
from ..boundary import Loader, by_id, route, see_other
from ..formatting import eur
from ..models import Application, Payment
from ..services import payments
from .applications import _draw as draw_application
from .blueprint import bp
from .forms_money import RECOVERY, RecoveryForm, ReversePaymentForm, reversal_key

MONEY_ANCHOR = "money-heading"


def _payments_application(key: str) -> Loader:
    """The URL's application, only as the loaded payment's own (else 404). The payment is
    loaded first so the permission is asked about it, as the policy's predicate expects."""
    def get(value, loaded):
        payment = loaded["payment"]
        return payment.application if payment.application_id == value else None

    return Loader("application_id", get)


def _refused_reversal(*, form, error, payment: Payment, application: Application):
    return draw_application(application, name=reversal_key(payment.id), form=form,
                            error=error,
                            label=_("Reverse payment %(reference)s", reference=payment.reference))


@route(bp, "/applications/<int:application_id>/payments/<int:payment_id>/reverse",
       methods=("POST",), permission=policy.can_reverse_payment,
       load={"payment": by_id(Payment), "application": _payments_application},
       form=lambda payment, application: ReversePaymentForm(prefix=reversal_key(payment.id)),
       render=_refused_reversal)
def reverse_payment(form: ReversePaymentForm, payment: Payment, application: Application):
    payments.reverse_payment(payment, current_user, form.reason.data or "")
    flash(_("Payment %(reference)s of %(amount)s reversed.", reference=payment.reference,
            amount=eur(payment.amount)), "success")
    return see_other("manager.application", MONEY_ANCHOR, application_id=application.id)


def _refused_recovery(*, form, error, application: Application):
    return draw_application(application, name=RECOVERY, form=form, error=error,
                            label=_("Record recovery"))


@route(bp, "/applications/<int:application_id>/recoveries", methods=("POST",),
       permission=policy.can_record_recovery, load={"application": by_id(Application)},
       form=lambda application: RecoveryForm(prefix=RECOVERY), render=_refused_recovery)
def record_recovery(form: RecoveryForm, application: Application):
    payments.record_recovery(application, current_user, form.amount.data,
                             received_on=form.received_on.data,
                             reference=form.reference.data or "")
    flash(_("Recovery of %(amount)s recorded.", amount=eur(form.amount.data)), "success")
    return see_other("manager.application", MONEY_ANCHOR, application_id=application.id)
