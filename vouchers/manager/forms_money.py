"""The forms of a voucher's money: reversing a payment, recording a recovery.

Each payment has its own reversal form on the page (its fields' names and ids carry the
payment's id). The forms parse; services/payments.py decides the rules and says why it
refuses (a missing reason, more than is due back), as it does for the CLI.
"""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..clock import today
from ..fields import MoneyField
from ..services.payments import MAX_REASON
from ..services.voucher_money import VoucherMoney

RECOVERY = "record_recovery"


def reversal_key(payment_id: int) -> str:
    """The form's name among the application page's forms (and its errors), and its prefix."""
    return f"reverse-{payment_id}"


class ReversePaymentForm(FlaskForm):
    reason = TextAreaField(
        lazy_gettext("Reason for the reversal"),
        [Length(max=MAX_REASON, message=lazy_gettext(
            "Keep the reason to at most %(max)s characters.", max=format(MAX_REASON, ",")))],
        render_kw={"required": True, "rows": 2},
        description=lazy_gettext("Kept in the ledger and the history, and shown to the "
                                 "applicant, for example: the bank returned the transfer, or "
                                 "the amount was wrong."))


class RecoveryForm(FlaskForm):
    amount = MoneyField(lazy_gettext("Amount received back (€)"),
                        [InputRequired(lazy_gettext("Give the amount the SME paid back."))])
    received_on = DateField(lazy_gettext("Received on"),
                            [InputRequired(lazy_gettext("Give the date it was received."))])
    reference = StringField(lazy_gettext("Reference of the incoming transfer"), [Length(max=60)],
                            render_kw={"required": True})


def money_forms(money: VoucherMoney) -> dict:
    """Fresh forms for the page: one reversal per payment still standing, the recovery."""
    forms: dict = {reversal_key(p.id): ReversePaymentForm(formdata=None, prefix=reversal_key(p.id))
                   for p in money.unreversed}
    recovery = RecoveryForm(formdata=None, prefix=RECOVERY)
    recovery.amount.data = money.recovery_due or None
    recovery.received_on.data = today()
    forms[RECOVERY] = recovery
    return forms
