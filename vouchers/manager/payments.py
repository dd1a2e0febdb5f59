"""Payments: the payments due of a call, its SEPA credit-transfer batches, and each batch's
file, execution and cancellation (services/payment_batches.py does the work)."""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_login import current_user

from .. import jobs, policy
from ..boundary import by_id, route, see_other
from ..clock import today
from ..formatting import eur
from ..jobs import file_kinds
from ..models import Call, PaymentBatch
from ..navigation import nav_item
from ..services import payment_batches as batches
from .blueprint import bp
from .forms import ButtonForm
from .forms_payments import CancelBatchForm, ExecuteBatchForm, PrepareBatchForm

nav_item("manager", lazy_gettext("Payments"), "manager.payments_home", order=35)

CALL = {"call": by_id(Call)}
BATCH = {"batch": by_id(PaymentBatch)}


def _errors(form, *names: str) -> list[str]:
    """Errors of the fields not drawn with their own (the selection, the CSRF token)."""
    errors = form.errors if form else {}
    return [m for name in ("csrf_token", *names) for m in errors.get(name, [])]


def _call_page(call: Call, form: PrepareBatchForm | None = None, error: str | None = None):
    dues = batches.due_payments(call)
    if form is None:  # every payment that can go in a file is ticked to begin with
        form = PrepareBatchForm(formdata=None,
                                application_ids=[d.application.id for d in dues
                                                 if d.selectable])
    return render_template("manager/payments.html", call=call, dues=dues, form=form,
                           batches=batches.batches_of(call), today=today(),
                           problems=([error] if error else [])
                           + _errors(form, "application_ids"),
                           debtor_missing=not call.programme.debtor_iban,
                           partner_paid=batches.partner_paid_currencies(call))


def _batch_page(batch: PaymentBatch, error: str | None = None, form=None, **_):
    return render_template("manager/payments_batch.html", batch=batch, call=batch.call,
                           summary=batches.summary_of(batch), today=today(),
                           execute_form=form if isinstance(form, ExecuteBatchForm)
                           else ExecuteBatchForm(formdata=None),
                           cancel_form=CancelBatchForm(formdata=None),
                           sepa_form=ButtonForm(formdata=None),
                           problems=([error] if error else []) + _errors(form))


@route(bp, "/payments", permission=policy.can_manage_payments)
def payments_home():
    return render_template("manager/payments_calls.html",
                           calls=batches.calls_with_batches())


@route(bp, "/calls/<int:call_id>/payments", permission=policy.can_manage_payments, load=CALL)
def payments(call: Call):
    return _call_page(call)


@route(bp, "/calls/<int:call_id>/payments/batches", methods=("POST",),
       permission=policy.can_manage_payments, load=CALL, form=PrepareBatchForm,
       render=lambda call, form=None, error=None: _call_page(call, form, error))
def prepare_batch(form: PrepareBatchForm, call: Call):
    batch = batches.prepare_batch(call, current_user, form.application_ids.data,
                                  form.execution_date.data)
    n = len(batch.items)
    flash(ngettext("Batch %(id)s prepared: %(num)s transfer, %(total)s. Download its SEPA file "
                   "and send it to the bank; once executed, mark it so here.",
                   "Batch %(id)s prepared: %(num)s transfers, %(total)s. Download its SEPA "
                   "file and send it to the bank; once executed, mark it so here.", n,
                   id=batch.message_id, total=eur(batches.summary_of(batch).total)), "success")
    return see_other("manager.payment_batch", batch_id=batch.id)


@route(bp, "/payments/batches/<int:batch_id>", permission=policy.can_manage_payments,
       load=BATCH)
def payment_batch(batch: PaymentBatch):
    return _batch_page(batch)


# The file is made by a job (vouchers/jobs/file_kinds.py), which records nothing on the
# batch; a cancelled batch is refused here, with the service's reason, and queues nothing.
@route(bp, "/payments/batches/<int:batch_id>/sepa.xml", methods=("POST",),
       permission=policy.can_manage_payments, load=BATCH, form=ButtonForm, render=_batch_page)
def download_sepa(form: ButtonForm, batch: PaymentBatch):
    file_kinds.check_sepa(batch)
    job = jobs.submit("sepa_file", {"batch_id": batch.id}, user=current_user,
                      title=_("SEPA file of batch %(id)s", id=batch.message_id))
    return see_other("manager.job", job_id=job.id)


@route(bp, "/payments/batches/<int:batch_id>/execute", methods=("POST",),
       permission=policy.can_manage_payments, load=BATCH, form=ExecuteBatchForm,
       render=_batch_page)
def execute_batch(form: ExecuteBatchForm, batch: PaymentBatch):
    batches.execute_batch(batch, current_user, form.bank_reference.data,
                          form.executed_on.data)
    flash(_("Batch %(id)s recorded as executed: each of its payments is recorded on its "
            "voucher.", id=batch.message_id), "success")
    return see_other("manager.payment_batch", batch_id=batch.id)


@route(bp, "/payments/batches/<int:batch_id>/cancel", methods=("POST",),
       permission=policy.can_manage_payments, load=BATCH, form=CancelBatchForm,
       render=_batch_page)
def cancel_batch(form: CancelBatchForm, batch: PaymentBatch):
    batches.cancel_batch(batch, current_user)
    flash(_("Batch %(id)s cancelled: its payments are due again.", id=batch.message_id),
          "success")
    return see_other("manager.payments", call_id=batch.call_id)
