"""The demo's follow-up surveys (issue 14): HLS1 asks its paid vouchers' companies what
the voucher led to, one and six months after the last payment.

A real call would ask at 6 and 24 months; the demo's vouchers were paid in the last few
months, so its first round comes after one month, which makes surveys due on the day the
demo is loaded. The step ``send-reminders`` runs (services/surveys.py) creates them and
queues their mails; two companies, an impact and a market-validation voucher, have
answered, so the call's dashboard and the workbook's Follow-up sheet show figures.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from ..models import Call
from ..services import surveys

FOLLOW_UP_MONTHS = [1, 6]

# What two companies answered, per voucher type (the first survey of each type).
ANSWERS = {
    "impact": ({"jobs_created": 2, "turnover_change": Decimal("48500.00"),
                "market_entry": True, "certification": False,
                "follow_on_investment": Decimal("350000.00")},
               "Two payers in the Netherlands now reimburse the test; a seed round closed."),
    "market_validation": ({"jobs_created": 1, "turnover_change": Decimal("-3200.00"),
                           "market_entry": True,
                           "follow_on_investment": Decimal("0.00")},
                          "We entered the German market; first sales next quarter, so this "
                          "year's turnover dipped while we hired a sales lead."),
}


def tell(call: Call, now: datetime) -> int:
    """Set the call's follow-up months, send the surveys due and answer two; how many
    surveys were sent."""
    call.follow_up_months = FOLLOW_UP_MONTHS
    # Sent yesterday, answered this morning.
    run = surveys.send_surveys(now - timedelta(days=1))
    answered: set[str] = set()
    for survey in surveys.due_surveys_of_call(call.id):
        voucher_type = survey.application.voucher_type
        if voucher_type in ANSWERS and voucher_type not in answered:
            values, comment = ANSWERS[voucher_type]
            surveys.answer(survey, survey.application.applicant, values, comment,
                           now=now - timedelta(hours=3))
            answered.add(voucher_type)
    return run.created
