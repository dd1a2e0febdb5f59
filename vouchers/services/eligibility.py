"""The eligibility rules of a call, checked for one application (STUB: being built)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import Application, EligibilityOverride


@dataclass(frozen=True)
class RuleResult:
    code: str
    label: str
    passed: bool
    reason: str
    # The legal ceilings (support cap, de minimis) admit no exception.
    overridable: bool = True
    # The outcome depends on the undertaking's other awards (vouchers held, support
    # received, de minimis counted): the funding line re-checks these as it walks.
    depends_on_awards: bool = False
    override: EligibilityOverride | None = None

    @property
    def blocks(self) -> bool:
        return not self.passed and self.override is None


def evaluate(application: Application, now: datetime | None = None) -> list[RuleResult]:
    return []


def blocking(application: Application, now: datetime | None = None) -> list[RuleResult]:
    return [r for r in evaluate(application, now) if r.blocks]


def refresh_flag(application: Application, now: datetime | None = None) -> None:
    application.fails_rules = bool(blocking(application, now))


def ensure_awardable(application: Application, now: datetime | None = None) -> None:
    return None
