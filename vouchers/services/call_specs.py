"""What a call's set-up says, and the rules it must meet whatever the database holds.

services/call_setup.py checks these first, then the rules that need the database (money
already committed, reviews already scored) and writes. The forms build these specs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from ..models import VOUCHER_TYPE_LABELS, VOUCHER_TYPES
from ..money import MAX_MONEY
from ..text import clean_line
from .errors import InvalidInput

CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_-]*")
CODE_MAX = 20  # references are CODE-TT-NNNNN in a 30-character column
MAX_SCORE_SCALE = 100
MAX_WEIGHT = Decimal("9999.99")  # Numeric(6, 2)
RATE_STEP = Decimal("0.0001")  # Numeric(5, 4)
WEIGHT_STEP = Decimal("0.01")
NAME_MAX = 200


class SetupRefused(InvalidInput):
    """One or more set-up rules broken; ``problems`` lists each as a sentence."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems

    @property
    def message(self) -> str:
        # One problem a line: the pages list them (see manager/calls.py).
        return "\n".join(self.problems)


@dataclass
class CriterionSpec:
    name: str
    weight: Decimal
    description: str = ""
    # The existing criterion this row edits; None adds a new one.
    id: int | None = None


@dataclass
class VoucherTypeSpec:
    voucher_type: str
    quota: int
    max_amount: Decimal
    # The share of eligible costs the voucher pays: 0.75 for 75%.
    funding_rate: Decimal
    envelope: Decimal
    score_scale: int = 5
    criteria: list[CriterionSpec] = field(default_factory=list)


@dataclass
class CallSpec:
    code: str
    title: str
    opens_at: datetime
    closes_at: datetime
    types: list[VoucherTypeSpec]
    description: str = ""


def checked_line(value: str, label: str, problems: list[str], missing: str) -> str:
    """A name or title cleaned (text.clean_line); its problem, if any, noted."""
    if not (value or "").strip():
        problems.append(missing)
        return ""
    try:
        return clean_line(value, label, NAME_MAX)
    except InvalidInput as exc:
        problems.append(exc.message)
        return ""


def refuse_if(problems: list[str]) -> None:
    if problems:
        raise SetupRefused(problems)


def normalise_code(code: str) -> str:
    return (code or "").strip().upper()



def call_problems(spec: CallSpec) -> list[str]:
    """The rules a call must meet whatever the database holds, one sentence each."""
    problems = []
    code = normalise_code(spec.code)
    if not code:
        problems.append("Give the call a code.")
    elif len(code) > CODE_MAX or not CODE_PATTERN.fullmatch(code):
        problems.append(f"The call code may hold up to {CODE_MAX} letters, digits, dashes "
                        "and underscores.")
    checked_line(spec.title, "the call's title", problems, "Give the call a title.")
    if spec.opens_at is None or spec.closes_at is None:
        problems.append("Say when the call opens and closes.")
    elif spec.opens_at.tzinfo is None or spec.closes_at.tzinfo is None:
        raise ValueError("naive datetime given; the call window is kept in UTC")
    elif spec.closes_at <= spec.opens_at:
        problems.append("The call must close after it opens.")
    seen = set()
    for t in spec.types:
        if t.voucher_type not in VOUCHER_TYPES:
            problems.append(f"There is no {t.voucher_type!r} voucher type.")
            continue
        if t.voucher_type in seen:
            problems.append(f"{VOUCHER_TYPE_LABELS[t.voucher_type]} vouchers appear twice.")
            continue
        seen.add(t.voucher_type)
        problems.extend(_type_problems(t))
    if not spec.types:
        problems.append("Offer at least one voucher type.")
    return problems


def _type_problems(t: VoucherTypeSpec) -> list[str]:
    label = VOUCHER_TYPE_LABELS[t.voucher_type]
    problems = []
    if t.quota is None or t.quota < 0:
        problems.append(f"{label}: the quota cannot be negative.")
    if t.max_amount is None or t.max_amount <= 0:
        problems.append(f"{label}: the maximum amount must be more than zero.")
    elif t.max_amount > MAX_MONEY:
        problems.append(f"{label}: the maximum amount is too large.")
    if t.funding_rate is None or not 0 < t.funding_rate <= 1:
        problems.append(f"{label}: the funding rate must be more than 0% and at most 100%.")
    elif rate(t.funding_rate) == 0:
        # Kept to a hundredth of a percent: a smaller rate would be stored as 0%.
        problems.append(f"{label}: a funding rate of {(t.funding_rate * 100).normalize():f}% "
                        f"rounds to 0%; the smallest rate is {(RATE_STEP * 100).normalize():f}%.")
    if t.envelope is None or t.envelope < 0:
        problems.append(f"{label}: the envelope cannot be negative.")
    elif t.envelope > MAX_MONEY:
        problems.append(f"{label}: the envelope is too large.")
    if t.score_scale is None or not 1 <= t.score_scale <= MAX_SCORE_SCALE:
        problems.append(f"{label}: scores run from 0 to a maximum between 1 and "
                        f"{MAX_SCORE_SCALE}.")
    if not t.criteria:
        problems.append(f"{label}: give at least one scoring criterion.")
    names = set()
    for c in t.criteria:
        name = checked_line(c.name, f"{label}: the name of a criterion", problems,
                     f"{label}: every criterion needs a name.")
        if name and name.lower() in names:
            problems.append(f"{label}: the criterion {name!r} appears twice.")
        names.add(name.lower())
        if c.weight is None or weight(c.weight) <= 0:
            problems.append(f"{label}: the weight of {name or 'a criterion'!r} must be more "
                            "than zero.")
        elif c.weight > MAX_WEIGHT:
            problems.append(f"{label}: the weight of {name!r} is too large.")
    return problems


def rate(value: Decimal) -> Decimal:
    return value.quantize(RATE_STEP, rounding=ROUND_HALF_UP)


def weight(value: Decimal) -> Decimal:
    return value.quantize(WEIGHT_STEP, rounding=ROUND_HALF_UP)
