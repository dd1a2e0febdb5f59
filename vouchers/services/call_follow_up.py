"""A call's follow-up months: how many months after a voucher's last payment its company is
asked what the voucher led to (services/surveys.py sends the surveys).

services/call_setup.py sets them with the rest of the call, on a CallSpec of their own
so a caller that predates them (KEEP) leaves them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from ..models import Call
from .call_specs import KEEP
from .deadlines import CallSpec as _DeadlinesSpec

# A follow-up later than ten years is past any programme's record keeping.
LEAST_MONTHS, MOST_MONTHS, MOST_FOLLOW_UPS = 1, 120, 4


def parse_months(text: str) -> tuple[list[int], list[str]]:
    """"6, 24" -> ([6, 24], []); the problems of a text that is not such a list."""
    parts = [p for p in (text or "").replace(";", ",").replace(" ", ",").split(",") if p]
    months, problems = [], []
    for part in parts:
        if not part.isascii() or not part.isdigit():
            problems.append(_("“%(part)s” is not a number of months; write them like 6, 24.",
                              part=part))
        else:
            months.append(int(part))
    return (sorted(set(months)), problems) if not problems else ([], problems)


def months_problems(months: Any) -> list[str]:
    """The problems of a list of follow-up months, one sentence each."""
    if not isinstance(months, list | tuple) or any(
            isinstance(m, bool) or not isinstance(m, int) for m in months):
        return [_("The follow-up months must be whole numbers, such as 6, 24.")]
    if any(not LEAST_MONTHS <= m <= MOST_MONTHS for m in months):
        return [_("A follow-up comes %(least)s to %(most)s months after the payment.",
                  least=LEAST_MONTHS, most=MOST_MONTHS)]
    if len(set(months)) != len(months):
        return [_("Give each follow-up month once.")]
    if len(months) > MOST_FOLLOW_UPS:
        return [_("At most %(most)s follow-up surveys per voucher.", most=MOST_FOLLOW_UPS)]
    return []


@dataclass
class CallSpec(_DeadlinesSpec):
    """A call's set-up with its follow-up months (KEEP: as the call has them)."""

    follow_up_months: Any = KEEP


def follow_up_problems(spec) -> list[str]:
    months = getattr(spec, "follow_up_months", KEEP)
    return [] if months is KEEP else months_problems(months)


def set_follow_up(call: Call, spec) -> None:
    months = getattr(spec, "follow_up_months", KEEP)
    if months is not KEEP:
        call.follow_up_months = sorted(months)
