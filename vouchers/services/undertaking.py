"""One undertaking's standing against the programme's limits (STUB: being built)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..models import Application, Call


@dataclass(frozen=True)
class Standing:
    """What one SME holds: vouchers over the programme, support over the programme, and
    de minimis aid counted over the rolling three years (declared + awarded here)."""

    vouchers: int
    support: Decimal
    de_minimis: Decimal


def standing_of(organisation_id: int, call: Call, at: datetime,
                excluding: int | None = None) -> Standing:
    return Standing(0, Decimal("0.00"), Decimal("0.00"))


def limit_problems(call: Call, standing: Standing, amount: Decimal) -> list[tuple[str, str]]:
    """(rule code, message) for each limit ``amount`` more would break."""
    return []


def check_award(application: Application, amount: Decimal, at: datetime) -> None:
    return None
