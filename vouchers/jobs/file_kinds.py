"""The files the manager's pages make as jobs: the funder's workbook, a partner report's list
of expenditure, the consortium summary and a payment batch's SEPA file.

Each maker writes exactly what the download wrote before it was a job: the same service
gathers the data and the same builder in exports/ writes it, with the requester as author
and the run's start as the moment it was generated. ``check_<kind>`` refuses, before a
job is queued, what would fail at once (filters that cannot describe the call, a cancelled
batch), so the page that asked says why instead of a job that fails.
"""

from __future__ import annotations

import io
from datetime import date
from typing import IO, Any

from exports.consortium_summary import build_consortium_summary
from exports.partner_report import ReportMeta, build_partner_report

from .. import policy
from ..extensions import db
from ..models import Call, PartnerReport, PaymentBatch, Programme
from ..models.base import MAX_ID, utcnow
from ..models.ledger import BATCH_CANCELLED
from ..services import batch_files
from ..services import partner_reports as reports
from ..services import partner_summary as summary
from ..services.errors import InvalidInput
from ..services.workbook import (
    XLSX_MIMETYPE,
    WorkbookFilters,
    budget_export,
    generated_by,
    workbook_filename,
)
from .kinds import JobRun, Made, kind

GONE = "What this file was to be made of no longer exists."


def _get(model: type, params: dict[str, Any], key: str) -> Any:
    value = params.get(key)
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return db.session.get(model, value)


def _must(model: type, params: dict[str, Any], key: str) -> Any:
    obj = _get(model, params, key)
    if obj is None:
        raise InvalidInput(GONE)
    return obj


# --- the funder's workbook -------------------------------------------------------------


def workbook_params(call: Call, filters: WorkbookFilters) -> dict[str, Any]:
    return {"call_id": call.id, "voucher_types": list(filters.voucher_types),
            "from": filters.awarded_from.isoformat() if filters.awarded_from else None,
            "to": filters.awarded_to.isoformat() if filters.awarded_to else None}


def workbook_filters(params: dict[str, Any]) -> WorkbookFilters:
    def day(value):
        return date.fromisoformat(value) if value else None

    return WorkbookFilters(voucher_types=tuple(params.get("voucher_types") or ()),
                           awarded_from=day(params.get("from")), awarded_to=day(params.get("to")))


def check_workbook(call: Call, filters: WorkbookFilters) -> None:
    filters.check(call)


@kind("workbook",
      permits=lambda user, p: policy.can_run_programme(user) and _get(Call, p, "call_id"),
      origin=lambda p: ("manager.dashboard", {"call_id": p["call_id"]}))
def make_workbook(run: JobRun, target: IO[bytes]) -> Made:
    call = _must(Call, run.params, "call_id")
    filters = workbook_filters(run.params)
    run.progress(2, "Counting the rows")
    with budget_export(call, filters) as export:
        total = max(1, export.row_count())
        run.progress(5, "Writing the sheets")
        export.write(target, generated_by=generated_by(run.requested_by), now=run.now,
                     language=run.requested_by.language if run.requested_by else None,
                     progress=lambda done: run.progress(5 + 94 * done // total,
                                                        "Writing the sheets"))
    return Made(workbook_filename(call, run.now, filters), XLSX_MIMETYPE)


# --- partner reports -------------------------------------------------------------------


def report_workbook(report: PartnerReport, by: str, now=None) -> tuple[bytes, str]:
    """The report's workbook and its file name (gathered here, written by exports/)."""
    now = now or utcnow()
    listing = reports.report_lines(report, now)
    partner, programme = report.partner, reports.programme_of(report.partner)
    note = (f"Provisional: the InforEuro rates of {listing.rate_month}; the month of "
            "submission decides." if listing.provisional else "")
    if listing.missing:
        note = " ".join([note, *listing.missing]).strip()
    meta = ReportMeta(programme=programme.name, partner=partner.name, country=partner.country,
                      currency=partner.currency, number=report.number,
                      period_start=report.period_start, period_end=report.period_end,
                      status=report.status, rate_rule=programme.rate_rule, rate_note=note,
                      generated_at=now, generated_by=by)
    target = io.BytesIO()
    build_partner_report(target, meta=meta, lines=listing.lines)
    return target.getvalue(), f"partner-report-{partner.id}-{report.number}.xlsx"


def _may_have_report(user: Any, params: dict[str, Any]) -> bool:
    report = _get(PartnerReport, params, "partner_report_id")
    return (report is not None and policy.can_view_partner_reports(user, report)
            and policy.reaches(user, report))


@kind("partner_report", permits=_may_have_report,
      origin=lambda p: ("manager.partner_report", {"partner_report_id": p["partner_report_id"]}))
def make_partner_report(run: JobRun, target: IO[bytes]) -> Made:
    report = _must(PartnerReport, run.params, "partner_report_id")
    run.progress(10, "Reading the ledger")
    data, name = report_workbook(report, generated_by(run.requested_by), now=run.now)
    target.write(data)
    return Made(name, XLSX_MIMETYPE)


@kind("consortium_summary",
      permits=lambda user, p: policy.can_view_consortium(user) and _get(Programme, p,
                                                                          "programme_id"),
      origin=lambda p: ("manager.consortium_summary", {"programme_id": p["programme_id"]}))
def make_consortium_summary(run: JobRun, target: IO[bytes]) -> Made:
    programme = _must(Programme, run.params, "programme_id")
    run.progress(10, "Reading every partner's reports")
    build_consortium_summary(target, programme=programme.name, generated_at=run.now,
                             rows=summary.consortium_summary(programme, run.now),
                             generated_by=generated_by(run.requested_by))
    return Made(f"consortium-summary-{run.now:%Y%m%d}.xlsx", XLSX_MIMETYPE)


# --- payments --------------------------------------------------------------------------


def check_sepa(batch: PaymentBatch) -> None:
    if batch.status == BATCH_CANCELLED:
        batch_files.sepa_xml(batch)  # refuses with the service's own reason


def _may_pay(user: Any, params: dict[str, Any]) -> bool:
    batch = _get(PaymentBatch, params, "batch_id")
    return batch is not None and policy.can_manage_payments(user, batch)


@kind("sepa_file", permits=_may_pay,
      origin=lambda p: ("manager.payment_batch", {"batch_id": p["batch_id"]}))
def make_sepa_file(run: JobRun, target: IO[bytes]) -> Made:
    # The file is rebuilt from the batch and records nothing (services/payment_batches):
    # the batch was committed when it was prepared, long before any file exists.
    batch = _must(PaymentBatch, run.params, "batch_id")
    run.progress(10, "Writing the credit transfers")
    target.write(batch_files.sepa_xml(batch))
    return Made(batch_files.sepa_filename(batch), "application/xml")
