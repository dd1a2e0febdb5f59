"""What ``flask --app vouchers purge-expired`` does: erase the companies past their
retention date, disable unused accounts and erase those unused for longer
(services/retention.py says what is due, services/privacy.py how it is erased)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app

from workflows.lifecycle import MANAGER

from ..clock import local_date
from ..extensions import db
from ..models import ChangeRecord, User
from ..models.base import utcnow
from . import accounts, api_tokens, privacy, retention
from .transaction import atomic


@dataclass
class PurgeReport:
    companies: list[tuple[int, date, str]] = field(default_factory=list)
    files: int = 0
    disabled: list[int] = field(default_factory=list)
    anonymised_accounts: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"Company #{oid}: retention date {until} passed ({why}); anonymised."
               for oid, until, why in self.companies]
        out += [f"Account #{uid}: unused too long; disabled." for uid in self.disabled]
        out += [f"Account #{uid}: unused too long; anonymised."
                for uid in self.anonymised_accounts]
        out.append(f"{len(self.companies)} compan{'y' if len(self.companies) == 1 else 'ies'}"
                   f" and {len(self.anonymised_accounts)} account(s) anonymised, "
                   f"{self.files} file(s) deleted, {len(self.disabled)} account(s) disabled.")
        return out


def purge_expired(now: datetime | None = None, *, dry_run: bool = False) -> PurgeReport:
    """Do (or with ``dry_run`` only list) what is due at ``now``; the caller commits."""
    now = now or utcnow()
    on = local_date(now)
    report = PurgeReport()
    for organisation, standing in retention.companies_due(on):
        report.companies.append((organisation.id, standing.keep_until, standing.explanation))
        if not dry_run:
            report.files += privacy.erase_company(
                organisation, None,
                f"Retention date {standing.keep_until} passed ({standing.explanation})")
    for user in retention.accounts_to_disable(now):
        if user.role == MANAGER and _last_manager(user):
            continue
        report.disabled.append(user.id)
        if not dry_run:
            _disable_unused(user, now)
    for user in retention.accounts_to_anonymise(now):
        report.anonymised_accounts.append(user.id)
        if not dry_run:
            privacy.anonymise_user(user, None, "Unused for "
                                   f"{retention.setting('ACCOUNT_ANONYMISE_AFTER_DAYS')} days")
    for line in report.lines():
        current_app.logger.info("purge-expired%s: %s", " (dry run)" if dry_run else "", line)
    return report


def _last_manager(user: User) -> bool:
    return retention.other_managers(user) == 0


def _disable_unused(user: User, now: datetime) -> None:
    with atomic():
        user.enabled = False
        accounts.end_sessions(user)
        api_tokens.revoke_all(user)
        reason = f"Unused for {retention.setting('ACCOUNT_DISABLE_AFTER_DAYS')} days"
        db.session.add(ChangeRecord(subject_type="user", subject_id=user.id,
                                    action="disabled", actor_id=None, reason=reason,
                                    changes={"enabled": ["yes", "no"]}, at=now))
