"""Partner reports: per partner and period, the list of expenditure Jems asks for.

A partner reports its periods one after the other: period n+1 starts the day after period
n ends, and only one period is a draft at a time. A draft's lines are read live from the
ledger: every movement of paid money (advances, payments, reversals, recoveries) on the
partner's vouchers booked by the period's end and not yet declared in a submitted report.
So a correction (a reversal or recovery booked after a period was submitted, or an entry
back-dated into it) is declared in the next period, and a submitted period never changes:
submitting writes its lines (ExpenditureLine, frozen by the model) with their rates.

Each line converts once, to the cent (services/rates.to_eur); totals are sums of the
rounded lines, so the workbook's SUM and the database agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import exists, select, update
from sqlalchemy.orm import contains_eager

from exports.sheets.common import JEMS_REFERENCE_LENGTH as INTERNAL_REFERENCE_LENGTH

from .. import policy, voucher_types
from ..clock import local_date
from ..extensions import db
from ..i18n import N_
from ..models import (
    Application,
    ExpenditureLine,
    LedgerEntry,
    Partner,
    PartnerReport,
    Payment,
    Programme,
    User,
)
from ..models.base import utcnow
from ..models.ledger import ADVANCE, PAYMENT, RECOVERY, REVERSAL
from ..models.partners import REPORT_DRAFT, REPORT_SUBMITTED
from .errors import ConcurrentChange, DomainError
from .rates import EUR, ONE, MissingRate, rate_of, to_eur
from .transaction import atomic
from .wording import day as on_day

# A voucher pays an SME for services it buys from outside (a provider's study, a trip's
# fees): among Jems' cost categories of a partner report that is "External expertise and
# services", never staff or equipment of the partner itself.
COST_CATEGORY = N_("External expertise and services")  # English in Jems' export
# The kinds of ledger entries that move paid money (commitments and releases move only the
# envelope: nothing reached or left an SME).
PAID_KINDS = (ADVANCE, PAYMENT, REVERSAL, RECOVERY)
# The voucher is a grant to the SME: no VAT is charged on it, so nothing is deducted.
NO_VAT = Decimal("0.00")
NUMBER_CLASH = {"uq_partner_reports_number": "Another manager opened this period at the same "
                "moment; reload the page.",
                "uq_expenditure_lines_ledger_entry_id": "A movement of this period was just "
                "declared in another report; reload the page."}


class ReportRefused(DomainError):
    """A partner report cannot be opened, changed or submitted as asked."""


@dataclass(frozen=True)
class Line:
    """One line of a list of expenditure, in Jems' shape (a draft's or a frozen one)."""

    position: int
    ledger_entry_id: int
    cost_category: str
    internal_reference: str
    invoice_number: str
    invoice_date: date | None
    paid_on: date
    description: str
    total_value: Decimal
    vat: Decimal
    declared_amount: Decimal
    currency: str
    rate: Decimal | None  # None: no rate for it yet (a draft only)
    declared_eur: Decimal | None
    correction: bool = False


# What a submission writes of a line (ExpenditureLine's columns); the correction flag is
# derived from the ledger entry, the same way before and after submission.
STORED = tuple(f.name for f in fields(Line) if f.name != "correction")


@dataclass
class ReportLines:
    """A report's lines and totals; for a draft, whether its rates are provisional."""

    report: PartnerReport
    lines: list[Line]
    provisional: bool = False
    rate_month: str = ""
    missing: list[str] = field(default_factory=list)

    @property
    def declared_eur(self) -> Decimal | None:
        if any(line.declared_eur is None for line in self.lines):
            return None
        return sum((line.declared_eur for line in self.lines), Decimal("0.00"))

    def declared_in(self, currency: str) -> Decimal:
        return sum((line.declared_amount for line in self.lines if line.currency == currency),
                   Decimal("0.00"))


def programme_of(partner: Partner) -> Programme:
    return db.session.get(Programme, partner.programme_id)


def reports_of(partner: Partner) -> list[PartnerReport]:
    return list(db.session.scalars(select(PartnerReport).where(
        PartnerReport.partner_id == partner.id).order_by(PartnerReport.number)))


def draft_of(partner: Partner) -> PartnerReport | None:
    return db.session.scalar(select(PartnerReport).where(
        PartnerReport.partner_id == partner.id, PartnerReport.status == REPORT_DRAFT))


def next_period_start(partner: Partner) -> date:
    """The day after the last period's end; the programme's start for the first."""
    last = db.session.scalar(select(PartnerReport.period_end).where(
        PartnerReport.partner_id == partner.id).order_by(PartnerReport.number.desc()).limit(1))
    return last + timedelta(days=1) if last else programme_of(partner).starts_on


def _period(report: PartnerReport) -> str:
    return f"{on_day(report.period_start)} – {on_day(report.period_end)}"


def open_next_period(partner: Partner, actor: User, period_end: date) -> PartnerReport:
    """Open the partner's next period, ending on ``period_end``."""
    with atomic(NUMBER_CLASH):
        policy.ensure(policy.can_view_partner_reports(actor, partner),
                      "Only the partner's managers or the lead partner's open its periods.")
        draft = draft_of(partner)
        if draft is not None:
            raise ReportRefused(_("Report %(number)s (%(period)s) is still a draft: submit it "
                                  "before opening the next period.", number=draft.number,
                                  period=_period(draft)))
        start = next_period_start(partner)
        _check_end(start, period_end, programme_of(partner))
        number = 1 + (db.session.scalar(select(PartnerReport.number).where(
            PartnerReport.partner_id == partner.id).order_by(
            PartnerReport.number.desc()).limit(1)) or 0)
        report = PartnerReport(partner_id=partner.id, number=number, period_start=start,
                               period_end=period_end, status=REPORT_DRAFT)
        db.session.add(report)
    return report


def _check_end(start: date, period_end: date | None, programme: Programme) -> None:
    if period_end is None:
        raise ReportRefused(_("Give the day the period ends."))
    if period_end < start:
        raise ReportRefused(_("The period starts on %(day)s (the day after the previous one "
                              "ends): it cannot end before that.", day=on_day(start)))
    # Nothing is paid after the programme ends; a far-off end (9999-12-31) would also leave
    # no next period to start (next_period_start would overflow).
    if period_end > programme.ends_on:
        raise ReportRefused(_("The programme ends on %(day)s: a period cannot end after "
                              "that.", day=on_day(programme.ends_on)))


def change_period_end(report: PartnerReport, actor: User, period_end: date) -> None:
    """Move a draft's end; a submitted period is frozen."""
    with atomic():
        policy.ensure(policy.can_view_partner_reports(actor, report),
                      "Only the partner's managers or the lead partner's change its periods.")
        _refuse_submitted(report)
        _check_end(report.period_start, period_end, programme_of(report.partner))
        _update_draft(report, period_end=period_end)
        db.session.refresh(report)


def _update_draft(report: PartnerReport, **values) -> None:
    """Change the report only while it is still a draft: of two managers submitting, or
    one submitting while another moves the end, one wins (SQLite ignores row locks)."""
    done = db.session.execute(
        update(PartnerReport).where(PartnerReport.id == report.id,
                                    PartnerReport.status == REPORT_DRAFT)
        .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise ConcurrentChange(_("This report was submitted by someone else meanwhile; "
                                 "reload the page."))


def _refuse_submitted(report: PartnerReport) -> None:
    if report.status == REPORT_SUBMITTED:
        raise ReportRefused(_(
            "Report %(number)s (%(period)s) was submitted on %(day)s and is frozen: a "
            "correction goes into the next period.", number=report.number,
            period=_period(report), day=on_day(local_date(report.submitted_at))))


# --- the lines -------------------------------------------------------------------------


def report_lines(report: PartnerReport, now: datetime | None = None, *,
                 rule: str | None = None,
                 cache: dict[str, Decimal | MissingRate] | None = None) -> ReportLines:
    """A submitted report's frozen lines, or a draft's computed now (rates provisional
    under the submission rule: the month it would be submitted in is this one). ``rule``
    and ``cache`` (rates by currency) let the consortium summary read them once."""
    if report.status == REPORT_SUBMITTED:
        return frozen_lines([report])[report.id]
    day = local_date(now or utcnow())
    rule = rule or programme_of(report.partner).rate_rule
    lines, missing = _live_lines(report, day, rule, {} if cache is None else cache)
    # Rates of EUR lines are 1 whatever the month: only another currency's may change.
    provisional = rule == "submission" and any(line.currency != EUR for line in lines)
    return ReportLines(report, lines, provisional=provisional, rate_month=f"{day:%B %Y}",
                       missing=missing)


def _is_correction(kind: str, booked_on: date, report: PartnerReport) -> bool:
    """Money that came back, or a movement back-dated into a period already submitted:
    the same test for a draft's line and a frozen one, so the flag never changes."""
    return kind in (REVERSAL, RECOVERY) or booked_on < report.period_start


def frozen_lines(submitted: list[PartnerReport]) -> dict[int, ReportLines]:
    """Submitted reports' lines by report id, with their ledger entries read in one query
    (for the correction flag: the lines keep amounts, the ledger keeps kinds)."""
    rows = [row for report in submitted for row in report.lines]
    kinds = {entry_id: (kind, booked_on) for entry_id, kind, booked_on in db.session.execute(
        select(LedgerEntry.id, LedgerEntry.kind, LedgerEntry.booked_on).where(
            LedgerEntry.id.in_([row.ledger_entry_id for row in rows])))} if rows else {}
    return {report.id: ReportLines(report, [Line(
        **{name: getattr(row, name) for name in STORED},
        correction=_is_correction(*kinds[row.ledger_entry_id], report))
        for row in report.lines]) for report in submitted}


def undeclared_entries(report: PartnerReport) -> list[LedgerEntry]:
    """The partner's movements of paid money booked by the period's end and declared in
    no submitted report (each movement is declared once: the unique ledger_entry_id),
    with their applications loaded by the same query."""
    return list(db.session.scalars(
        select(LedgerEntry).join(Application, Application.id == LedgerEntry.application_id)
        .options(contains_eager(LedgerEntry.application))
        .where(Application.partner_id == report.partner_id,
               LedgerEntry.kind.in_(PAID_KINDS),
               LedgerEntry.booked_on <= report.period_end,
               ~exists().where(ExpenditureLine.ledger_entry_id == LedgerEntry.id))
        .order_by(LedgerEntry.booked_on, LedgerEntry.id)))


def _live_lines(report: PartnerReport, day: date, rule: str,
                rates: dict[str, Decimal | MissingRate]) -> tuple[list[Line], list[str]]:
    entries = undeclared_entries(report)
    ids = {entry.payment_id for entry in entries if entry.payment_id}
    found = {payment.id: payment for payment in db.session.scalars(
        select(Payment).where(Payment.id.in_(ids)))} if ids else {}
    declared = _declared_payments(
        {entry.payment_id for entry in entries if entry.kind == REVERSAL})
    missing: list[str] = []
    lines = []
    for position, entry in enumerate(entries, 1):
        payment = found.get(entry.payment_id)
        currency, total = _amount(entry, payment)
        if entry.kind == REVERSAL and entry.payment_id in declared:
            # A reversal takes back what its payment's line declared, at that line's rate:
            # converted again at a later month's rate, a few euros of money that came back
            # would stay declared.
            rate, eur = declared[entry.payment_id]
            lines.append(_line(position, entry, payment, report, currency, total, rate, -eur))
            continue
        try:
            rate = _rate(rule, currency, payment, day, rates)
        except MissingRate as exc:
            rate = None
            if exc.message not in missing:
                missing.append(exc.message)
        eur = None if rate is None else to_eur(total - NO_VAT, rate)
        if rule == "payment" and payment is not None and rate is not None:
            # What the ledger booked, not a recomputation: a transfer that came within one
            # coin of the due was booked at the full due (services/payments.Transfer), so
            # only this keeps the report and the ledger in agreement.
            eur = (-1 if entry.paid < 0 else 1) * payment.amount
        lines.append(_line(position, entry, payment, report, currency, total, rate, eur))
    return lines, missing


def _declared_payments(payment_ids: set[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """(rate, declared EUR) of the submitted lines that declared these payments."""
    if not payment_ids:
        return {}
    return {payment_id: (rate, eur) for payment_id, rate, eur in db.session.execute(
        select(LedgerEntry.payment_id, ExpenditureLine.rate, ExpenditureLine.declared_eur)
        .join(ExpenditureLine, ExpenditureLine.ledger_entry_id == LedgerEntry.id)
        .where(LedgerEntry.payment_id.in_(payment_ids), LedgerEntry.kind != REVERSAL))}


def _amount(entry: LedgerEntry, payment: Payment | None) -> tuple[str, Decimal]:
    """The movement in the currency it was paid in (negative when money came back). A
    recovery has no payment: the ledger holds it in EUR, so it is declared in EUR."""
    sign = -1 if entry.paid < 0 else 1
    if (payment is not None and payment.currency != EUR
            and payment.amount_in_currency is not None):
        return payment.currency, sign * payment.amount_in_currency
    return EUR, entry.paid


def _rate(rule: str, currency: str, payment: Payment | None, day: date,
          cache: dict[str, Decimal | MissingRate]) -> Decimal:
    if currency == EUR:
        return ONE
    if rule == "payment":
        if payment.rate is None:
            raise MissingRate(_("The payment %(reference)s in %(currency)s has no stored "
                                "InforEuro rate; record the rate of its month first.",
                                reference=payment.reference, currency=currency))
        return payment.rate
    if currency not in cache:
        try:
            cache[currency] = rate_of(currency, day.year, day.month).units_per_eur
        except MissingRate as exc:
            cache[currency] = exc  # asked once, however many lines are in that currency
    if isinstance(cache[currency], MissingRate):
        raise cache[currency]
    return cache[currency]


def _line(position: int, entry: LedgerEntry, payment: Payment | None, report: PartnerReport,
          currency: str, total: Decimal, rate: Decimal | None, eur: Decimal | None) -> Line:
    application = entry.application
    # The ledger entry's number tells lines apart within Jems' 30 characters: a payment
    # and its reversal share a bank reference (the description gives it).
    reference = f"{application.reference} / ledger {entry.id}"
    return Line(
        position=position, ledger_entry_id=entry.id, cost_category=COST_CATEGORY,
        internal_reference=reference[:INTERNAL_REFERENCE_LENGTH],
        invoice_number=payment.invoice_number if payment else "",
        invoice_date=payment.invoice_date if payment else None, paid_on=entry.booked_on,
        description=_description(entry, application, payment, report), total_value=total,
        vat=NO_VAT, declared_amount=total - NO_VAT, currency=currency, rate=rate,
        declared_eur=eur, correction=_is_correction(entry.kind, entry.booked_on, report))


def _description(entry: LedgerEntry, application: Application, payment: Payment | None,
                 report: PartnerReport) -> str:
    """What the movement is first, then the voucher: Jems cuts a long description, and
    the title is the part that may go."""
    if entry.kind == REVERSAL and payment is not None:
        text = (f"Correction: reversal of the {payment.kind} of {payment.paid_on:%d %b %Y}"
                f" ({payment.reference})")
        if entry.reason:
            text += f": {entry.reason}"
    elif entry.kind == RECOVERY:
        text = f"Correction: money paid back by the SME ({entry.reason or 'recovery'})"
    else:
        text = f"{'Advance' if entry.kind == ADVANCE else 'Payment'} {entry.reference}"
    if entry.booked_on < report.period_start:
        text = (f"{text.rstrip('.')}. Booked on {entry.booked_on:%d %b %Y}, in a period "
                "already submitted: declared here")
    label = voucher_types.label(application.voucher_type)
    # A reason typed with its own full stop must not end in "..".
    return f"{text.rstrip('.')}. {label} voucher: {application.title}"


# --- submitting ------------------------------------------------------------------------


def submit(report: PartnerReport, actor: User, now: datetime | None = None) -> ReportLines:
    """Freeze the period: write its lines with their rates, never to change again."""
    now = now or utcnow()
    with atomic(NUMBER_CLASH):
        policy.ensure(policy.can_view_partner_reports(actor, report),
                      "Only the partner's managers or the lead partner's submit its reports.")
        _refuse_submitted(report)
        day = local_date(now)
        if report.period_end > day:
            raise ReportRefused(_("The period ends on %(day)s: submit it on that day or "
                                  "later.", day=on_day(report.period_end)))
        policy.ensure(policy.can_submit_partner_report(actor, report),
                      "Only the partner's managers or the lead partner's submit its reports.")
        lines, missing = _live_lines(report, day, programme_of(report.partner).rate_rule, {})
        if missing:
            raise MissingRate(" ".join(missing))
        _update_draft(report, status=REPORT_SUBMITTED, submitted_at=now,
                      submitted_by_id=actor.id)
        for line in lines:
            db.session.add(ExpenditureLine(
                report_id=report.id, **{name: getattr(line, name) for name in STORED}))
        db.session.flush()
        db.session.refresh(report)
    return report_lines(report)
