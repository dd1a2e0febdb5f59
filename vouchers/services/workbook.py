"""The funder's budget workbook of one call: the figures gathered here, the layout in exports/.

What goes into which sheet, and why:

- *Summary* shows per voucher type the figures of ``call_figures.type_figures``, the same
  reading the manager's dashboard shows: "applications received" are the submitted ones
  (``vouchers/figures.py``: drafts are not received, and have a column of their own).
  Awarded (the quota places used), committed and paid are the counters of the call's
  voucher types, which are the ledger's sums (services/ledger.py): the Ledger sheet sets
  its sums per type next to them, and every euro traces to a ledger entry and through it
  to a voucher.
- *Vouchers*, *Ledger*, *Payments*, *De minimis* and *List of expenditure* list every
  voucher awarded, cancelled ones included: a cancelled voucher's award and release are
  ledger entries, and an advance it was paid stays committed, and due back, until
  recovered. Its columns (awarded, released, committed = awarded - released, paid) then
  add up to the Summary's. Only the list of expenditure leaves out reversed payments.
- *De minimis* is the register of the aid granted (services/register_export.py): one row
  per award, as granted, with the aid after close-out, and the aid its undertaking
  declared granted inside the rolling three years up to the award date with the total of
  that and the aid awarded here in the period: the figure the award was allowed on
  (budget.de_minimis_period_start).
- Filters: voucher types restrict every sheet. The award date range (inclusive, in the
  programme's time zone, the same dates the Vouchers sheet shows) restricts the vouchers
  and, through them, their ledger entries, payments and de minimis rows; the Summary and
  Applications sheets describe the whole call (of the chosen types), so the Ledger sheet
  then does not compare its sums with the Summary. The About sheet says so, and a
  filtered workbook's file name says it is filtered.

All queries of one export run on one connection in one read transaction (REPEATABLE READ
on PostgreSQL; SQLite's transaction is a snapshot already), so a payment recorded while a
large workbook is being written cannot make the Summary disagree with the Payments sheet.
The labels of voucher types come from the registry (vouchers/voucher_types.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import Connection, func, select
from werkzeug.utils import secure_filename

from exports import TypeSummary, WorkbookMeta, build_budget_workbook
from exports.follow_up_sheet import FollowUpRow

from .. import i18n, voucher_types
from ..clock import programme_zone
from ..extensions import db
from ..models import Application, Call, DeMinimisGrant, LedgerEntry, Payment, User
from ..models.base import utcnow
from ..models.ledger import RECOVERY, REVERSAL
from . import surveys
from .call_figures import TypeFigures, call_type_figures
from .errors import InvalidInput
from .workbook_rows import (
    Scope,
    application_rows,
    de_minimis_rows,
    ledger_rows,
    payment_rows,
    recovery_rows,
    voucher_rows,
)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COMMAND_LINE = "command line"
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(2999, 12, 31)


@dataclass(frozen=True)
class WorkbookFilters:
    """What the manager narrowed the workbook to; empty means the whole call."""

    voucher_types: tuple[str, ...] = ()
    awarded_from: date | None = None
    awarded_to: date | None = None

    def check(self, call: Call) -> None:
        """Refuse filters that cannot describe this call, with a sentence saying why."""
        offered = [t.voucher_type for t in call.voucher_types]
        unknown = [t for t in self.voucher_types if t not in offered]
        if unknown:
            raise InvalidInput(_("%(call)s offers no %(unknown)s vouchers; it offers "
                                 "%(offered)s.", call=call.code, unknown=", ".join(unknown),
                                 offered=", ".join(offered) or _("no voucher type")))
        for day in (self.awarded_from, self.awarded_to):
            # The far ends of the calendar cannot be turned into UTC instants.
            if day is not None and not FIRST_DATE <= day <= LAST_DATE:
                iso = "%Y-%m-%d"
                raise InvalidInput(_("Give award dates between %(first)s and %(last)s; "
                                     "%(day)s is out of range.", first=FIRST_DATE.strftime(iso),
                                     last=LAST_DATE.strftime(iso), day=day.strftime(iso)))
        if self.awarded_from and self.awarded_to and self.awarded_to < self.awarded_from:
            raise InvalidInput(_("The award date range ends (%(end)s) before it starts "
                                 "(%(start)s).", end=self.awarded_to.strftime("%Y-%m-%d"),
                                 start=self.awarded_from.strftime("%Y-%m-%d")))

    @property
    def has_dates(self) -> bool:
        return self.awarded_from is not None or self.awarded_to is not None

    @property
    def is_filtered(self) -> bool:
        return bool(self.voucher_types) or self.has_dates

    def describe(self, zone: str) -> list[tuple[str, str]]:
        """The filters as the About sheet lists them."""
        lines = []
        if self.voucher_types:
            labels = [voucher_types.label(t) for t in dict.fromkeys(self.voucher_types)]
            lines.append(("Voucher types", ", ".join(labels)))
        if self.awarded_from:
            lines.append(("Awarded from", f"{self.awarded_from:%Y-%m-%d}"))
        if self.awarded_to:
            lines.append(("Awarded to", f"{self.awarded_to:%Y-%m-%d}"))
        if self.has_dates:
            lines.append((
                "Award dates",
                f"inclusive, {zone} time; they restrict Vouchers, Ledger, Payments, De minimis "
                "and List of expenditure, not Summary or Applications (nor Follow-up)",
            ))
        return lines

    def name_part(self) -> str:
        """What the file name adds for these filters: "" for the whole call."""
        if not self.is_filtered:
            return ""
        parts = ["filtered", *dict.fromkeys(self.voucher_types)]
        if self.awarded_from:
            parts.append(f"from-{self.awarded_from:%Y%m%d}")
        if self.awarded_to:
            parts.append(f"to-{self.awarded_to:%Y%m%d}")
        return "-" + "-".join(parts)


def generated_by(user: User | None) -> str:
    if user is None:
        return COMMAND_LINE
    return f"{user.name} ({user.email})"


def workbook_filename(call: Call, at: datetime, filters: WorkbookFilters | None = None) -> str:
    """``HLS1-budget-20260601.xlsx``; a filtered workbook says so and by what.

    For example ``HLS1-budget-20260601-filtered-travel-from-20260101-to-20260331.xlsx``,
    so that a filtered download saved next to the full one can never be taken for it.
    """
    # Call codes are typed by managers; the name must still be a plain file name.
    code = secure_filename(call.code) or f"call-{call.id}"
    extra = (filters or WorkbookFilters()).name_part()
    return secure_filename(f"{code}-budget-{at.astimezone(UTC):%Y%m%d}{extra}.xlsx")


@contextmanager
def budget_export(call: Call, filters: WorkbookFilters | None = None) -> Iterator[BudgetExport]:
    """An export of ``call`` reading one consistent snapshot of the database."""
    filters = filters or WorkbookFilters()
    filters.check(call)
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            yield BudgetExport(conn, call, filters)


def type_summary(t: TypeFigures) -> TypeSummary:
    """A voucher type's figures as the Summary sheet's row."""
    return TypeSummary(
        voucher_type=t.voucher_type,
        label=t.label,
        quota=t.quota,
        envelope=t.envelope,
        funding_rate=t.funding_rate,
        received=t.received,
        drafts=t.drafts,
        awarded_count=t.awarded,
        committed=t.committed,
        paid=t.paid,
        outstanding=t.outstanding,
        remaining_envelope=t.remaining_envelope,
        remaining_quota=t.remaining_quota,
    )


class BudgetExport:
    """The queries behind one workbook; obtain it from :func:`budget_export`."""

    def __init__(self, conn: Connection, call: Call, filters: WorkbookFilters):
        self.conn = conn
        self.call = call
        self.filters = filters
        self.programme = call.programme
        self.zone = programme_zone()
        self.scope = Scope(conn, call.id, filters.voucher_types, filters.awarded_from,
                           filters.awarded_to, self.zone)
        self._figures: list[TypeFigures] | None = None
        self._follow_up: list[FollowUpRow] | None = None

    def figures(self) -> list[TypeFigures]:
        if self._figures is None:
            self._figures = call_type_figures(self.conn, self.call.id, self.filters.voucher_types)
        return self._figures

    def follow_up(self) -> list[FollowUpRow]:
        """The Follow-up sheet's rows: the dashboard's roll-up (services/surveys.py)."""
        if self._follow_up is None:
            # The roll-up's rows are the sheet's rows (FollowUpFigures extends FollowUpRow).
            self._follow_up = list(surveys.roll_up(self.conn, self.call.id,
                                                   self.filters.voucher_types))
        return self._follow_up

    def filename(self, at: datetime) -> str:
        return workbook_filename(self.call, at, self.filters)

    def row_count(self) -> int:
        """The data rows the workbook will hold, over all its sheets (for a progress bar)."""
        a = Application
        mine = self.scope.vouchers_of_call()

        def count(model, *joined_where) -> int:
            return self.conn.scalar(
                select(func.count()).select_from(model)
                .join(a, a.id == model.application_id).where(*mine, *joined_where)
            )

        vouchers = self.conn.scalar(select(func.count()).select_from(a).where(*mine))
        payments = count(Payment)
        reversed_payments = count(LedgerEntry, LedgerEntry.kind == REVERSAL)
        recoveries = count(LedgerEntry, LedgerEntry.kind == RECOVERY)
        figures = self.figures()
        applications = sum(t.applications for t in figures)
        # Payments lists every payment; the list of expenditure those not reversed, and the
        # recoveries.
        return (len(figures) + applications + vouchers + count(LedgerEntry)
                + count(DeMinimisGrant) + 2 * payments - reversed_payments + recoveries
                + len(self.follow_up()))

    def meta(self, *, generated_by: str, now: datetime) -> WorkbookMeta:
        return WorkbookMeta(
            programme=self.programme.name,
            funder=self.programme.funder,
            call=f"{self.call.code} – {self.call.title}",
            currency=self.programme.currency,
            filters=self.filters.describe(self.zone.key),
            generated_at=now,
            generated_by=generated_by,
        )

    def write(
        self,
        target: str | IO[bytes],
        *,
        generated_by: str,
        progress: Callable[[int], Any] | None = None,
        now: datetime | None = None,
        language: str | None = None,
    ) -> int:
        """Write the workbook to ``target``; return the number of data rows written.

        ``language``: the requester's, for the headings (English when None).
        """
        written = 0

        def count(done: int) -> None:
            nonlocal written
            written = done
            if progress is not None:
                progress(done)

        build_budget_workbook(
            target,
            meta=self.meta(generated_by=generated_by, now=now or utcnow()),
            summaries=[type_summary(t) for t in self.figures()],
            vouchers=voucher_rows(self.scope),
            applications=application_rows(self.scope),
            payments=payment_rows(self.scope),
            de_minimis=de_minimis_rows(self.scope),
            ledger=ledger_rows(self.scope),
            recoveries=recovery_rows(self.scope),
            reconcile=not self.filters.has_dates,
            labels=voucher_types.LABELS,
            progress=count,
            follow_up=self.follow_up(),
            headings=i18n.workbook_headings(language),
        )
        return written
