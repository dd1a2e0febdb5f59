"""How long a company's records are kept, defined once: the manager's company page, the
purge (``flask --app vouchers purge-expired``) and the tests read ``retention_of``.

A company that received aid (a payment, or an award recorded as de minimis aid) is kept
until 31 December of the year of its last money movement (a payment, an advance, a
reversal, a recovery: the last time money moved between the programme and it) plus
RETENTION_YEARS (5), or DE_MINIMIS_RETENTION_YEARS (10) when an award of it is de minimis
aid (counted from the later of the last movement and the last grant: the register must
outlive its grants). A company that never received aid has no date from payments: a
manager may anonymise it at any time, and the purge anonymises it once RETENTION_YEARS
have passed after the year of its last activity (an application created, submitted or
decided, a login of one of its accounts), which also bounds how long an aided company is
kept after later unfunded applications. Nothing is due while one of its applications is
still running (neither a draft nor in a final state).

Accounts: one not used (last login, else creation) for ACCOUNT_DISABLE_AFTER_DAYS is
disabled; after ACCOUNT_ANONYMISE_AFTER_DAYS it is anonymised, unless its company still has
an application running or it is the last enabled manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from workflows.lifecycle import APPLICANT, DRAFT, FINAL_STATES, MANAGER

from ..clock import local_date
from ..extensions import db
from ..models import Application, DeMinimisGrant, LedgerEntry, Organisation, Payment, User
from ..models.ledger import ADVANCE, PAYMENT, RECOVERY, REVERSAL

DEFAULTS = {"RETENTION_YEARS": 5, "DE_MINIMIS_RETENTION_YEARS": 10,
            "ACCOUNT_DISABLE_AFTER_DAYS": 3 * 365, "ACCOUNT_ANONYMISE_AFTER_DAYS": 5 * 365}
MONEY_MOVEMENTS = (ADVANCE, PAYMENT, REVERSAL, RECOVERY)


def setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def end_of_year_after(day: date, years: int) -> date:
    return date(day.year + years, 12, 31)


@dataclass(frozen=True)
class Retention:
    """One company's standing: ``keep_until`` None while an application runs."""

    keep_until: date | None
    received_aid: bool
    de_minimis: bool
    running: int  # applications neither drafts nor final
    last_movement: date | None
    last_activity: date
    explanation: str

    def due(self, on: date) -> bool:
        return self.keep_until is not None and self.keep_until < on

    @property
    def manager_may_anonymise(self) -> bool:
        """A manager may erase a company that never received aid, once nothing runs."""
        return not self.received_aid and not self.running


def _running(organisation_id: int) -> int:
    return db.session.scalar(
        select(func.count(Application.id)).where(
            Application.organisation_id == organisation_id,
            Application.state.not_in(sorted(FINAL_STATES | {DRAFT}))))


def _last_activity(organisation: Organisation) -> date:
    a = Application
    moments = db.session.execute(
        select(func.max(a.created_at), func.max(a.submitted_at), func.max(a.decided_at),
               func.max(a.awarded_at)).where(a.organisation_id == organisation.id)).one()
    logins = db.session.scalar(select(func.max(User.last_login_at)).where(
        User.organisation_id == organisation.id))
    found = [m for m in (*moments, logins, organisation.created_at) if m is not None]
    return max(local_date(_aware(m)) for m in found)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive UTC datetimes from an aggregate.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def retention_of(organisation: Organisation) -> Retention:
    """The one definition of a company's retention date (see the module's docstring)."""
    last_movement = db.session.scalar(
        select(func.max(LedgerEntry.booked_on)).join(Application).where(
            Application.organisation_id == organisation.id,
            LedgerEntry.kind.in_(MONEY_MOVEMENTS)))
    paid = last_movement is not None or db.session.scalar(
        select(func.count(Payment.id)).join(Application)
        .where(Application.organisation_id == organisation.id)) > 0
    last_grant = db.session.scalar(select(func.max(DeMinimisGrant.granted_on)).where(
        DeMinimisGrant.organisation_id == organisation.id))
    running = _running(organisation.id)
    activity = _last_activity(organisation)
    years = setting("RETENTION_YEARS")
    after_activity = end_of_year_after(activity, years)
    aided = paid or last_grant is not None
    # The explanation is said in the language of the page that asks (the manager's company
    # page, the applicant's "My data"); the purge runs as a command, in English.
    if last_grant is not None:
        base = max(d for d in (last_movement, last_grant) if d is not None)
        from_aid = end_of_year_after(base, setting("DE_MINIMIS_RETENTION_YEARS"))
        why = _("de minimis aid: %(years)s years after %(year)s",
                years=setting("DE_MINIMIS_RETENTION_YEARS"), year=base.year)
    elif last_movement is not None:
        from_aid = end_of_year_after(last_movement, years)
        why = _("last payment in %(year)s: %(years)s years after it", year=last_movement.year,
                years=years)
    else:
        from_aid = None
        why = _("no aid received: %(years)s years after its last activity (%(year)s)",
                years=years, year=activity.year)
    keep_until = None if running else max(d for d in (from_aid, after_activity) if d)
    if running:
        why = _("%(count)s application(s) still running: kept while they run", count=running)
    elif from_aid is not None and after_activity > from_aid:
        why = _("%(why)s; later activity in %(year)s keeps it longer", why=why,
                year=activity.year)
    return Retention(keep_until, aided, last_grant is not None, running, last_movement,
                     activity, why)


def companies_due(on: date) -> list[tuple[Organisation, Retention]]:
    """The companies not yet anonymised whose retention date is before ``on``."""
    candidates = db.session.scalars(
        select(Organisation).where(Organisation.anonymised_at.is_(None),
                                   or_(select(User.id).where(
                                       User.organisation_id == Organisation.id,
                                       User.role == APPLICANT).exists(),
                                       select(Application.id).where(
                                           Application.organisation_id == Organisation.id
                                       ).exists()))
        .order_by(Organisation.id)).all()
    due = []
    for organisation in candidates:
        standing = retention_of(organisation)
        if standing.due(on):
            due.append((organisation, standing))
    return due


def _unused_since(cutoff: datetime):
    return func.coalesce(User.last_login_at, User.created_at) < cutoff


def accounts_to_disable(now: datetime) -> list[User]:
    cutoff = now - timedelta(days=setting("ACCOUNT_DISABLE_AFTER_DAYS"))
    return list(db.session.scalars(
        select(User).where(User.enabled.is_(True), User.anonymised_at.is_(None),
                           _unused_since(cutoff)).order_by(User.id)))


def accounts_to_anonymise(now: datetime) -> list[User]:
    """Unused long enough, and nothing that still needs the person: no running
    application of their company, never the last enabled manager."""
    cutoff = now - timedelta(days=setting("ACCOUNT_ANONYMISE_AFTER_DAYS"))
    found = db.session.scalars(
        select(User).where(User.anonymised_at.is_(None), _unused_since(cutoff))
        .order_by(User.id)).all()
    chosen = []
    for user in found:
        if user.organisation_id is not None and user.role == APPLICANT \
                and _running(user.organisation_id):
            continue
        if user.role == MANAGER and other_managers(user) == 0:
            continue
        chosen.append(user)
    return chosen


def other_managers(user: User) -> int:
    return db.session.scalar(select(func.count(User.id)).where(
        User.role == MANAGER, User.enabled.is_(True), User.anonymised_at.is_(None),
        User.id != user.id))


def periods() -> dict[str, int]:
    """The configured periods, for the privacy notice."""
    return {name.lower(): setting(name) for name in DEFAULTS}
