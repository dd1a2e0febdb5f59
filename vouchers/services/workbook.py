"""The funder's budget workbook of one call: the figures gathered here, the layout in exports/.

What goes into which sheet, and why:

- *Summary* counts every application of the call per voucher type (drafts included, as
  "applications received"; "submitted" counts those that were ever submitted). Awarded,
  committed and paid come from the vouchers themselves (state in VOUCHER_STATES), so every
  euro of the summary traces to a row of the Vouchers sheet; the running totals kept on
  the call's voucher types must agree, and the tests hold them to it.
- *Vouchers*, *Payments*, *De minimis* and *List of expenditure* list live vouchers only.
  A cancelled voucher was given up and its money went back to the envelope: listing it
  there would make the sheets' columns add up to more than the summary's committed money,
  and it is not de minimis aid (budget.de_minimis_received leaves it out too). It stays
  visible, with its state, in the Applications sheet, which lists every application.
- Filters: voucher types restrict every sheet. The award date range (inclusive, in the
  programme's time zone, the same dates the Vouchers sheet shows) restricts the vouchers
  and, through them, their payments and de minimis rows; the Summary and Applications
  sheets describe the whole call (of the chosen types). The About sheet says so.

All queries of one export run on one connection in one read transaction (REPEATABLE READ
on PostgreSQL; SQLite's transaction is a snapshot already), so a payment recorded while a
large workbook is being written cannot make the Summary disagree with the Payments sheet.
Large result sets are streamed (``yield_per``: a server-side cursor on PostgreSQL), each row
with everything it needs joined in the same query.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import IO, Any

from sqlalchemy import Connection, case, func, select
from sqlalchemy.orm import aliased
from werkzeug.utils import secure_filename

from exports import (
    ApplicationRow,
    DeMinimisRow,
    PaymentRow,
    TypeSummary,
    VoucherRow,
    WorkbookMeta,
    build_budget_workbook,
)
from workflows.lifecycle import REJECTED, STATE_LABELS, VOUCHER_STATES, WAITLISTED

from ..clock import programme_zone
from ..extensions import db
from ..models import (
    VOUCHER_TYPE_LABELS,
    Application,
    Call,
    CallVoucherType,
    FinalReport,
    Organisation,
    Payment,
    ServiceProvider,
    User,
)
from ..models.base import utcnow
from ..models.reporting import report_status
from ..money import ZERO
from .budget import DE_MINIMIS_YEARS
from .errors import InvalidInput

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COMMAND_LINE = "command line"
# Rows fetched per round trip when streaming; enough to keep the cursor overhead small,
# few enough that 100,000 applications never sit in memory at once.
STREAM_ROWS = 1000
# The window budget.de_minimis_received checks an award against, so the workbook's rolling
# total is the figure the award was allowed on.
DE_MINIMIS_WINDOW = timedelta(days=365 * DE_MINIMIS_YEARS + 1)

REPORT_STATUS_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "returned": "Returned",
    "approved": "Approved",
}

_LIVE = tuple(sorted(VOUCHER_STATES))
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
            raise InvalidInput(
                f"{call.code} offers no {', '.join(unknown)} vouchers; it offers "
                f"{', '.join(offered) or 'no voucher type'}."
            )
        for day in (self.awarded_from, self.awarded_to):
            # The far ends of the calendar cannot be turned into UTC instants.
            if day is not None and not FIRST_DATE <= day <= LAST_DATE:
                raise InvalidInput(f"Give award dates between {FIRST_DATE:%Y-%m-%d} and "
                                   f"{LAST_DATE:%Y-%m-%d}; {day:%Y-%m-%d} is out of range.")
        if self.awarded_from and self.awarded_to and self.awarded_to < self.awarded_from:
            raise InvalidInput(
                f"The award date range ends ({self.awarded_to:%Y-%m-%d}) before it starts "
                f"({self.awarded_from:%Y-%m-%d})."
            )

    @property
    def has_dates(self) -> bool:
        return self.awarded_from is not None or self.awarded_to is not None

    def describe(self, zone: str) -> list[tuple[str, str]]:
        """The filters as the About sheet lists them."""
        lines = []
        if self.voucher_types:
            labels = [VOUCHER_TYPE_LABELS.get(t, t) for t in dict.fromkeys(self.voucher_types)]
            lines.append(("Voucher types", ", ".join(labels)))
        if self.awarded_from:
            lines.append(("Awarded from", f"{self.awarded_from:%Y-%m-%d}"))
        if self.awarded_to:
            lines.append(("Awarded to", f"{self.awarded_to:%Y-%m-%d}"))
        if self.has_dates:
            lines.append((
                "Award dates",
                f"inclusive, {zone} time; they restrict Vouchers, Payments, De minimis and "
                "List of expenditure, not Summary or Applications",
            ))
        return lines


def generated_by(user: User | None) -> str:
    if user is None:
        return COMMAND_LINE
    return f"{user.name} ({user.email})"


def workbook_filename(call: Call, at: datetime) -> str:
    # Call codes are typed by managers; the name must still be a plain file name.
    code = secure_filename(call.code) or f"call-{call.id}"
    return f"{code}-budget-{at.astimezone(UTC):%Y%m%d}.xlsx"


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


class BudgetExport:
    """The queries behind one workbook; obtain it from :func:`budget_export`."""

    def __init__(self, conn: Connection, call: Call, filters: WorkbookFilters):
        self.conn = conn
        self.call = call
        self.filters = filters
        programme = call.programme
        self.programme = programme
        self.zone = programme_zone()
        self._summaries: list[TypeSummary] | None = None

    # --- conditions shared by the queries ----------------------------------------------

    def _of_call(self, a: Any = Application) -> list[Any]:
        conditions = [a.call_id == self.call.id]
        if self.filters.voucher_types:
            conditions.append(a.voucher_type.in_(self.filters.voucher_types))
        return conditions

    def _vouchers_of_call(self, a: Any = Application) -> list[Any]:
        conditions = [*self._of_call(a), a.state.in_(_LIVE)]
        if self.filters.awarded_from is not None:
            conditions.append(a.awarded_at >= self._local_midnight(self.filters.awarded_from))
        if self.filters.awarded_to is not None:
            next_day = self.filters.awarded_to + timedelta(days=1)
            conditions.append(a.awarded_at < self._local_midnight(next_day))
        return conditions

    def _local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.zone).astimezone(UTC)

    def _award_date(self, at: datetime | None) -> date | None:
        return at.astimezone(self.zone).date() if at is not None else None

    def _stream(self, stmt) -> Iterator[Any]:
        yield from self.conn.execute(stmt.execution_options(yield_per=STREAM_ROWS))

    # --- the sheets' rows --------------------------------------------------------------

    def summaries(self) -> list[TypeSummary]:
        if self._summaries is None:
            self._summaries = self._read_summaries()
        return self._summaries

    def _read_summaries(self) -> list[TypeSummary]:
        t = CallVoucherType
        conditions = [t.call_id == self.call.id]
        if self.filters.voucher_types:
            conditions.append(t.voucher_type.in_(self.filters.voucher_types))
        types = self.conn.execute(
            select(t.voucher_type, t.quota, t.envelope, t.funding_rate)
            .where(*conditions)
            .order_by(t.position, t.id)
        ).all()
        a = Application
        live = a.state.in_(_LIVE)
        figures = {
            row.voucher_type: row
            for row in self.conn.execute(
                select(
                    a.voucher_type,
                    func.count().label("applications"),
                    func.count(a.submitted_at).label("submitted"),
                    func.count(case((live, a.id))).label("awarded"),
                    func.sum(case((live, a.awarded_amount))).label("committed"),
                    func.sum(case((live, a.paid_amount))).label("paid"),
                )
                .where(*self._of_call())
                .group_by(a.voucher_type)
            )
        }
        summaries = []
        for vt, quota, envelope, funding_rate in types:
            f = figures.get(vt)
            summaries.append(TypeSummary(
                voucher_type=vt,
                label=VOUCHER_TYPE_LABELS.get(vt, vt),
                quota=quota,
                envelope=envelope,
                funding_rate=funding_rate,
                applications=f.applications if f else 0,
                submitted=f.submitted if f else 0,
                awarded_count=f.awarded if f else 0,
                committed=(f.committed if f else None) or ZERO,
                paid=(f.paid if f else None) or ZERO,
            ))
        return summaries

    def vouchers(self) -> Iterator[VoucherRow]:
        a, o, p, r = Application, Organisation, ServiceProvider, FinalReport
        stmt = (
            select(
                a.reference, o.legal_name, o.registry_number, o.country, o.region,
                a.voucher_type, p.name, a.title, a.requested_amount, a.awarded_amount,
                a.paid_amount, a.awarded_at, a.state, r.id, r.decided_at,
            )
            .join(o, o.id == a.organisation_id)
            .outerjoin(p, p.id == a.provider_id)
            .outerjoin(r, r.application_id == a.id)
            .where(*self._vouchers_of_call())
            .order_by(a.reference)
        )
        for (reference, sme, registry, country, region, vt, provider, title, requested,
             awarded, paid, awarded_at, state, report_id, decided_at) in self._stream(stmt):
            report = report_status(state, decided_at) if report_id is not None else None
            yield VoucherRow(
                reference, sme, registry, country, region, vt, provider, title, requested,
                awarded, paid, self._award_date(awarded_at), STATE_LABELS.get(state, state),
                REPORT_STATUS_LABELS.get(report, report) if report else None,
            )

    def applications(self) -> Iterator[ApplicationRow]:
        a, o = Application, Organisation
        stmt = (
            select(
                a.reference, o.legal_name, o.country, a.voucher_type, a.title, a.state,
                a.submitted_at, a.weighted_score, a.review_count, a.awarded_at,
                a.decision_reason,
            )
            .join(o, o.id == a.organisation_id)
            .where(*self._of_call())
            .order_by(a.reference)
        )
        for (reference, sme, country, vt, title, state, submitted_at, score, reviews,
             awarded_at, reason) in self._stream(stmt):
            yield ApplicationRow(
                reference, sme, country, vt, title, STATE_LABELS.get(state, state),
                submitted_at, score, reviews, _decision(state, awarded_at, reason),
            )

    def payments(self) -> list[PaymentRow]:
        # A list, not a stream: two sheets read it, and payments are bounded by the
        # vouchers (a few per voucher), not by the applications.
        pay, a, o, p = Payment, Application, Organisation, ServiceProvider
        stmt = (
            select(
                pay.paid_on, a.reference, o.legal_name, pay.amount, pay.reference,
                pay.invoice_number, pay.invoice_date, a.title, p.name,
            )
            .join(a, a.id == pay.application_id)
            .join(o, o.id == a.organisation_id)
            .outerjoin(p, p.id == a.provider_id)
            .where(*self._vouchers_of_call())
            .order_by(pay.paid_on, pay.id)
        )
        rows = []
        for (paid_on, voucher, sme, amount, reference, invoice, invoice_date, title,
             provider) in self._stream(stmt):
            description = f"Voucher {voucher}: {title}"
            if provider:
                description += f" ({provider})"
            rows.append(PaymentRow(
                paid_on, voucher, sme, amount, reference, invoice or None, invoice_date,
                description,
            ))
        return rows

    def de_minimis(self) -> Iterator[DeMinimisRow]:
        """Each voucher as de minimis aid, with the undertaking's total over the window.

        Two queries, whatever the number of vouchers: the vouchers of this export, and every
        live voucher (of any call) of the undertakings they went to; the rolling sums are
        then prefix sums per undertaking.
        """
        a, o = Application, Organisation
        mine = aliased(Application)
        history: dict[int, tuple[list[tuple[datetime, int]], list[Decimal]]] = {}
        for org_id, app_id, at, amount in self.conn.execute(
            select(a.organisation_id, a.id, a.awarded_at, a.awarded_amount)
            .where(
                a.state.in_(_LIVE),
                a.organisation_id.in_(
                    select(mine.organisation_id).where(*self._vouchers_of_call(mine))
                ),
            )
            .order_by(a.organisation_id, a.awarded_at, a.id)
        ):
            keys, amounts = history.setdefault(org_id, ([], []))
            keys.append((at, app_id))
            amounts.append(amount)
        totals = {org: (keys, [ZERO, *accumulate(amounts)])
                  for org, (keys, amounts) in history.items()}

        stmt = (
            select(
                a.id, a.organisation_id, o.legal_name, o.registry_number,
                o.de_minimis_declared, a.awarded_at, a.awarded_amount,
            )
            .join(o, o.id == a.organisation_id)
            .where(*self._vouchers_of_call())
            .order_by(a.awarded_at, a.id)
        )
        for app_id, org_id, name, registry, declared, at, amount in self._stream(stmt):
            keys, prefix = totals[org_id]
            # Aid awarded up to and including this award, back to the start of the window.
            upto = bisect.bisect_right(keys, (at, app_id))
            since = bisect.bisect_left(keys, (at - DE_MINIMIS_WINDOW,))
            received = prefix[upto] - prefix[since]
            yield DeMinimisRow(
                name, registry, self._award_date(at), amount, declared, declared + received,
            )

    # --- counting and writing ----------------------------------------------------------

    def row_count(self) -> int:
        """The data rows the workbook will hold, over all its sheets (for a progress bar)."""
        a = Application
        vouchers = self.conn.scalar(
            select(func.count()).select_from(a).where(*self._vouchers_of_call())
        )
        payments = self.conn.scalar(
            select(func.count())
            .select_from(Payment)
            .join(a, a.id == Payment.application_id)
            .where(*self._vouchers_of_call())
        )
        summaries = self.summaries()
        applications = sum(s.applications for s in summaries)
        # Vouchers and de minimis hold a row per voucher; Payments and the list of
        # expenditure a row per payment.
        return len(summaries) + applications + 2 * vouchers + 2 * payments

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
    ) -> int:
        """Write the workbook to ``target``; return the number of data rows written."""
        written = 0

        def count(done: int) -> None:
            nonlocal written
            written = done
            if progress is not None:
                progress(done)

        build_budget_workbook(
            target,
            self.meta(generated_by=generated_by, now=now or utcnow()),
            self.summaries(),
            self.vouchers(),
            self.applications(),
            self.payments(),
            self.de_minimis(),
            progress=count,
        )
        return written


def _decision(state: str, awarded_at: datetime | None, reason: str) -> str | None:
    """The manager's decision on an application, with the reason given, if any."""
    if awarded_at is not None:
        # Still "Awarded" once the voucher moved on (paid, cancelled): that was the decision.
        outcome = "Awarded"
    elif state == REJECTED:
        outcome = "Rejected"
    elif state == WAITLISTED:
        outcome = "Waitlisted"
    else:
        return None
    reason = (reason or "").strip()
    return f"{outcome}: {reason}" if reason else outcome

