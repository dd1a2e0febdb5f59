"""The rows of the workbook's lists, read from one snapshot and streamed.

Large result sets are streamed (``yield_per``: a server-side cursor on PostgreSQL), each
row with everything it needs joined in the same query, and every exporter row is built by
keyword. ``Scope`` holds what narrows them: the call, the chosen voucher types, the award
dates (inclusive, in the programme's time zone, the dates the Vouchers sheet shows).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from itertools import accumulate
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from exports import ApplicationRow, DeMinimisRow, LedgerRow, PaymentRow, VoucherRow
from workflows.lifecycle import CANCELLED, REJECTED, STATE_LABELS, WAITLISTED

from ..figures import LIVE_VOUCHER_STATES, outstanding
from ..models import (
    AidDeclaration,
    Application,
    CallVoucherType,
    FinalReport,
    LedgerEntry,
    Organisation,
    Payment,
    ServiceProvider,
    User,
)
from ..models.ledger import KIND_LABELS, RECOVERY, REVERSAL
from ..models.reporting import report_status
from ..money import ZERO
from . import settlement
from .budget import de_minimis_period_opens, de_minimis_period_start
from .register_export import grants_select, register_row

# Rows fetched per round trip when streaming; enough to keep the cursor overhead small,
# few enough that 100,000 applications never sit in memory at once.
STREAM_ROWS = 1000

# The vouchers of the sheets: every award, a cancelled one included (its award and release
# are in the ledger, and an advance it was paid stays committed until recovered).
AWARDED_STATES = (*LIVE_VOUCHER_STATES, CANCELLED)

REPORT_STATUS_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "returned": "Returned",
    "approved": "Approved",
}


class Scope:
    """The conditions every query of one export shares, on its one connection."""

    def __init__(self, conn: Connection, call_id: int, voucher_types: Sequence[str],
                 awarded_from: date | None, awarded_to: date | None, zone: tzinfo):
        self.conn = conn
        self.call_id = call_id
        self.voucher_types = tuple(voucher_types)
        self.awarded_from = awarded_from
        self.awarded_to = awarded_to
        self.zone = zone

    def of_call(self, a: Any = Application) -> list[Any]:
        conditions = [a.call_id == self.call_id]
        if self.voucher_types:
            conditions.append(a.voucher_type.in_(self.voucher_types))
        return conditions

    def vouchers_of_call(self, a: Any = Application) -> list[Any]:
        conditions = [*self.of_call(a), a.state.in_(AWARDED_STATES),
                      a.awarded_at.is_not(None)]
        if self.awarded_from is not None:
            conditions.append(a.awarded_at >= self._local_midnight(self.awarded_from))
        if self.awarded_to is not None:
            next_day = self.awarded_to + timedelta(days=1)
            conditions.append(a.awarded_at < self._local_midnight(next_day))
        return conditions

    def _local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=self.zone).astimezone(UTC)

    def award_date(self, at: datetime | None) -> date | None:
        return at.astimezone(self.zone).date() if at is not None else None

    def stream(self, stmt) -> Iterator[Any]:
        yield from self.conn.execute(stmt.execution_options(yield_per=STREAM_ROWS))


def voucher_rows(scope: Scope) -> Iterator[VoucherRow]:
    a, o, p, r, t = Application, Organisation, ServiceProvider, FinalReport, CallVoucherType
    stmt = (
        select(
            a.reference, o.legal_name, o.registry_number, o.country, o.region,
            a.voucher_type, p.name.label("provider"), a.title, a.requested_amount,
            a.awarded_amount, a.released_amount, a.paid_amount, a.awarded_at, a.state,
            r.id.label("report_id"), r.decided_at, r.actual_costs, t.funding_rate,
        )
        .join(o, o.id == a.organisation_id)
        .join(t, t.id == a.call_voucher_type_id)
        .outerjoin(p, p.id == a.provider_id)
        .outerjoin(r, r.application_id == a.id)
        .where(*scope.vouchers_of_call())
        .order_by(a.reference)
    )
    for row in scope.stream(stmt):
        report = report_status(row.state, row.decided_at) if row.report_id is not None else None
        committed = row.awarded_amount - row.released_amount
        payable = settlement.payable_of(row.awarded_amount, row.actual_costs, row.funding_rate)
        due_back = settlement.recovery_due_of(row.state, row.paid_amount, payable)
        yield VoucherRow(
            reference=row.reference,
            sme=row.legal_name,
            registry_number=row.registry_number,
            country=row.country,
            region=row.region,
            voucher_type=row.voucher_type,
            provider=row.provider,
            title=row.title,
            requested=row.requested_amount,
            awarded=row.awarded_amount,
            released=row.released_amount,
            paid=row.paid_amount,
            # Held and not paid: 0 once paid (close-out keeps only what is paid or payable).
            outstanding=outstanding(committed, row.paid_amount),
            recovery_due=due_back,
            award_date=scope.award_date(row.awarded_at),
            state=STATE_LABELS.get(row.state, row.state),
            report_state=REPORT_STATUS_LABELS.get(report, report) if report else None,
        )


def application_rows(scope: Scope) -> Iterator[ApplicationRow]:
    a, o = Application, Organisation
    stmt = (
        select(
            a.reference, o.legal_name, o.country, a.voucher_type, a.title, a.state,
            a.submitted_at, a.weighted_score, a.review_count, a.awarded_at,
            a.decision_reason,
        )
        .join(o, o.id == a.organisation_id)
        .where(*scope.of_call())
        .order_by(a.reference)
    )
    for row in scope.stream(stmt):
        yield ApplicationRow(
            reference=row.reference,
            sme=row.legal_name,
            country=row.country,
            voucher_type=row.voucher_type,
            title=row.title,
            state=STATE_LABELS.get(row.state, row.state),
            submitted_at=row.submitted_at,
            weighted_score=row.weighted_score,
            review_count=row.review_count,
            decision=decision(row.state, row.awarded_at, row.decision_reason),
        )


def payment_rows(scope: Scope) -> list[PaymentRow]:
    # A list, not a stream: two sheets read it, and payments are bounded by the
    # vouchers (a few per voucher), not by the applications.
    pay, a, o, p = Payment, Application, Organisation, ServiceProvider
    # A payment is reversed at most once (uq_ledger_entries_payment_kind): one row each.
    rev = aliased(LedgerEntry)
    stmt = (
        select(
            pay.paid_on, a.reference.label("voucher"), o.legal_name, pay.amount,
            pay.reference, pay.invoice_number, pay.invoice_date, a.title,
            p.name.label("provider"), pay.kind, rev.id.label("reversal_id"),
        )
        .join(a, a.id == pay.application_id)
        .join(o, o.id == a.organisation_id)
        .outerjoin(p, p.id == a.provider_id)
        .outerjoin(rev, (rev.payment_id == pay.id) & (rev.kind == REVERSAL))
        .where(*scope.vouchers_of_call())
        .order_by(pay.paid_on, pay.id)
    )
    rows = []
    for row in scope.stream(stmt):
        description = f"Voucher {row.voucher}: {row.title}"
        if row.provider:
            description += f" ({row.provider})"
        rows.append(PaymentRow(
            paid_on=row.paid_on,
            voucher_reference=row.voucher,
            sme=row.legal_name,
            amount=row.amount,
            payment_reference=row.reference,
            invoice_number=row.invoice_number or None,
            invoice_date=row.invoice_date,
            description=description,
            kind=KIND_LABELS.get(row.kind, row.kind),
            reversed=row.reversal_id is not None,
        ))
    return rows


def recovery_rows(scope: Scope) -> Iterator[PaymentRow]:
    """The money SMEs paid back, as negative payments for the list of expenditure."""
    e, a, o = LedgerEntry, Application, Organisation
    stmt = (
        select(e.booked_on, a.reference.label("voucher"), o.legal_name, e.paid, e.reference)
        .join(a, a.id == e.application_id).join(o, o.id == a.organisation_id)
        .where(*scope.vouchers_of_call(), e.kind == RECOVERY).order_by(e.booked_on, e.id)
    )
    for row in scope.stream(stmt):
        yield PaymentRow(
            paid_on=row.booked_on, voucher_reference=row.voucher, sme=row.legal_name,
            amount=row.paid, payment_reference=row.reference, invoice_number=None,
            invoice_date=None, kind=KIND_LABELS[RECOVERY],
            description=f"Voucher {row.voucher}: advance paid back by the SME "
                        f"({row.reference})")


def ledger_rows(scope: Scope) -> Iterator[LedgerRow]:
    """Every ledger entry of the export's vouchers, in the order booked."""
    e, a, o, u = LedgerEntry, Application, Organisation, User
    stmt = (
        select(
            e.booked_on, a.reference.label("voucher"), o.legal_name, a.voucher_type, e.kind,
            e.committed, e.paid, e.quota, e.reason, e.reference, u.name.label("actor"), e.at,
        )
        .join(a, a.id == e.application_id)
        .join(o, o.id == a.organisation_id)
        .outerjoin(u, u.id == e.actor_id)
        .where(*scope.vouchers_of_call())
        .order_by(e.id)
    )
    for row in scope.stream(stmt):
        yield LedgerRow(
            booked_on=row.booked_on,
            voucher_reference=row.voucher,
            sme=row.legal_name,
            voucher_type=row.voucher_type,
            kind=KIND_LABELS.get(row.kind, row.kind),
            committed=row.committed,
            paid=row.paid,
            quota=row.quota,
            reason=row.reason,
            reference=row.reference,
            recorded_by=row.actor,
            recorded_at=row.at,
        )


def de_minimis_rows(scope: Scope) -> Iterator[DeMinimisRow]:
    """The register's row of each voucher's award (services/register_export.py), with the
    undertaking's total over the rolling period that ends on its award date
    (budget.de_minimis_period_start, as the award check): the aid it declared, and the aid
    awarded here, in any call, on vouchers that still hold money. A cancelled voucher's
    own award therefore no longer counts in its total.

    Three queries, whatever the number of vouchers: the grants of this export, every
    live voucher (of any call) and every declared aid of the undertakings they went to;
    the rolling sums are then prefix sums per undertaking.
    """
    a, d = Application, AidDeclaration
    mine = aliased(Application)
    undertakings = select(mine.organisation_id).where(*scope.vouchers_of_call(mine))
    awards = _prefix_sums(scope.conn.execute(
        # The aid a voucher gives is what it still holds, as the award check counts it.
        select(a.organisation_id, a.awarded_at, a.id, a.awarded_amount - a.released_amount)
        .where(a.state.in_(LIVE_VOUCHER_STATES), a.organisation_id.in_(undertakings))
        .order_by(a.organisation_id, a.awarded_at, a.id)
    ))
    declared = _prefix_sums(scope.conn.execute(
        select(d.organisation_id, d.granted_on, d.id, d.amount)
        .where(d.organisation_id.in_(undertakings))
        .order_by(d.organisation_id, d.granted_on, d.id)
    ))
    nothing: tuple[list, list[Decimal]] = ([], [ZERO])

    for row in scope.stream(grants_select(*scope.vouchers_of_call())):
        at, app_id = row.awarded_at, row.id
        day = scope.award_date(at)
        keys, prefix = awards.get(row.organisation_id, nothing)
        # Aid awarded up to and including this award, back to the start of the period.
        upto = bisect.bisect_right(keys, (at, app_id))
        since = bisect.bisect_left(keys, (de_minimis_period_opens(day, scope.zone),))
        received = prefix[upto] - prefix[since]
        keys, prefix = declared.get(row.organisation_id, nothing)
        # Aid granted inside the period, up to the award date.
        declared_before = (prefix[bisect.bisect_left(keys, (day + timedelta(days=1),))]
                           - prefix[bisect.bisect_left(
                               keys, (de_minimis_period_start(day) + timedelta(days=1),))])
        yield register_row(row, declared_before=declared_before,
                           rolling_total=declared_before + received)


def _prefix_sums(rows) -> dict[int, tuple[list[tuple[Any, int]], list[Decimal]]]:
    """(organisation, when, id, amount) rows in order -> per organisation the sorted keys
    (when, id) and the running totals before each (prefix[i] sums the first i)."""
    history: dict[int, tuple[list[tuple[Any, int]], list[Decimal]]] = {}
    for org_id, when, row_id, amount in rows:
        keys, amounts = history.setdefault(org_id, ([], []))
        keys.append((when, row_id))
        amounts.append(amount)
    return {org: (keys, [ZERO, *accumulate(amounts)]) for org, (keys, amounts) in history.items()}


def decision(state: str, awarded_at: datetime | None, reason: str) -> str | None:
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
