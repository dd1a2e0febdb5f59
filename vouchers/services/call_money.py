"""A call's money settings: the share of each award paid in advance, and whether a voucher
closed on a report of no eligible costs gives its quota place back.

services/call_setup.py sets them with the rest of the call; services/settlement.py reads
them. They live on a CallSpec of their own so a caller that predates them (a plain
call_specs.CallSpec) leaves them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import exists, select

from ..extensions import db
from ..models import Application, Call, Payment, PaymentBatch
from ..models.ledger import ADVANCE, BATCH_PREPARED
from . import call_specs
from .call_specs import rate


@dataclass
class CallSpec(call_specs.CallSpec):
    """A call's set-up with its money settings, which services/settlement.py reads.

    A plain call_specs.CallSpec (a caller that predates them) leaves them as they are:
    a new call's defaults, or the call's present settings.
    """

    # The share of each award paid in advance, 0.5 for 50%; None: no advance.
    advance_share: Decimal | None = None
    # A voucher closed on a report of no eligible costs gives its quota place back.
    zero_report_returns_quota: bool = True


LEAST_ADVANCE, MOST_ADVANCE = Decimal("0.01"), Decimal("0.99")


def money_problems(spec: call_specs.CallSpec) -> list[str]:
    """The money settings' problems, one sentence each."""
    problems = []
    share = getattr(spec, "advance_share", None)
    if share is not None and (isinstance(share, bool) or not isinstance(share, Decimal)
                              or not share.is_finite()
                              or not LEAST_ADVANCE <= share <= MOST_ADVANCE
                              or rate(share) != share):
        problems.append(_("The advance must be from 1% to 99% of the award, with at most "
                          "two decimals of a percent, or left empty for no advance."))
    returns = getattr(spec, "zero_report_returns_quota", True)
    if not isinstance(returns, bool):
        problems.append(_("Say whether a voucher closed on a report with no eligible costs "
                          "gives its quota place back (yes or no)."))
    return problems


def set_money(call: Call, spec: call_specs.CallSpec) -> None:
    call_specs.write_given(call, spec, ("advance_share", "zero_report_returns_quota"))


def advance_problems(call: Call, spec: call_specs.CallSpec) -> list[str]:
    """The advance share stays once advances were paid or a payment file is out: the bank
    may be paying an advance at the old share, which must still be recorded as paid."""
    share = getattr(spec, "advance_share", call_specs.KEEP)
    if share is call_specs.KEEP or share == call.advance_share:
        return []
    p, b = Payment, PaymentBatch
    paid = db.session.scalar(select(exists().where(
        p.kind == ADVANCE, p.application_id.in_(
            select(Application.id).where(Application.call_id == call.id)))))
    open_batch = db.session.scalar(select(exists().where(
        b.call_id == call.id, b.status == BATCH_PREPARED)))
    if paid or open_batch:
        return [_("Advances of this call were already paid or are in a payment file "
                  "awaiting execution, so its advance share can no longer change.")]
    return []


