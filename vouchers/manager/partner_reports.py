"""Partner reports: a partner's periods, a period's list of expenditure, the consortium.

A partner's managers (and the lead partner's) open the next period, see its lines as the
ledger has them now, download them for Jems and submit the period, which freezes it. The
lead partner's managers see every partner's periods on the consortium summary.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from .. import jobs, policy
from ..boundary import by_id, route, see_other
from ..formatting import day
from ..jobs.file_kinds import report_workbook  # noqa: F401  (where tests have it)
from ..models import Partner, PartnerReport, Programme
from ..navigation import nav_item
from ..services import partner_reports as reports
from ..services import partner_summary as summary
from .blueprint import bp
from .forms import ButtonForm
from .forms_partner_reports import (
    FREEZE_TEXT,
    OpenPeriodForm,
    PeriodEndForm,
    SubmitReportForm,
)

# One entry for every manager: a partner's managers land on their own partner's reports,
# the lead partner's on the consortium summary (partner_reports_home decides).
nav_item("manager", lazy_gettext("Partner reports"), "manager.partner_reports_home", order=48)

PARTNER = {"partner": by_id(Partner)}
REPORT = {"report": by_id(PartnerReport, "partner_report_id")}
PROGRAMME = {"programme": by_id(Programme)}


def _partner_page(partner: Partner, form=None, error: str | None = None):
    return render_template(
        "manager/partner_reports.html", partner=partner, reports=reports.reports_of(partner),
        draft=reports.draft_of(partner), next_start=reports.next_period_start(partner),
        form=form or OpenPeriodForm(formdata=None), error=error)


def _report_page(report: PartnerReport, form=None, error: str | None = None,
                 period_form=None, period_error: str | None = None):
    return render_template(
        "manager/partner_reports_report.html", report=report, partner=report.partner,
        listing=reports.report_lines(report), freeze_text=FREEZE_TEXT,
        form=form or SubmitReportForm(formdata=None), error=error,
        period_form=period_form or PeriodEndForm(formdata=None,
                                                 period_end=report.period_end),
        period_error=period_error, rate_rule=reports.programme_of(report.partner).rate_rule,
        download_form=ButtonForm(formdata=None))


@route(bp, "/partner-reports", permission=policy.can_manage)
def partner_reports_home():
    scope = policy.partner_scope(current_user)
    if scope is not None:
        return redirect(url_for("manager.partner_reports", partner_id=scope))
    programme = summary.consortium_programme(current_user)
    if programme is None:
        flash(_("No programme has partners yet."), "info")
        return redirect(url_for("manager.dashboard_home"))
    return redirect(url_for("manager.consortium_summary", programme_id=programme.id))


@route(bp, "/partners/<int:partner_id>/reports", permission=policy.can_view_partner_reports,
       load=PARTNER)
def partner_reports(partner: Partner):
    return _partner_page(partner)


@route(bp, "/partners/<int:partner_id>/reports/open", methods=("POST",), load=PARTNER,
       permission=policy.can_view_partner_reports, form=OpenPeriodForm,
       render=lambda form, error=None, partner=None: _partner_page(partner, form, error))
def open_partner_period(form: OpenPeriodForm, partner: Partner):
    report = reports.open_next_period(partner, current_user, form.period_end.data)
    flash(_("Report %(number)s is open, from %(start)s to %(end)s.", number=report.number,
            start=day(report.period_start), end=day(report.period_end)), "success")
    return see_other("manager.partner_report", partner_report_id=report.id)


@route(bp, "/partner-reports/<int:partner_report_id>", load=REPORT,
       permission=policy.can_view_partner_reports)
def partner_report(report: PartnerReport):
    return _report_page(report)


@route(bp, "/partner-reports/<int:partner_report_id>/submit", methods=("POST",), load=REPORT,
       permission=policy.can_submit_partner_report, form=SubmitReportForm,
       render=lambda form, error=None, report=None: _report_page(report, form, error))
def submit_partner_report(form: SubmitReportForm, report: PartnerReport):
    reports.submit(report, current_user)
    flash(_("Report %(number)s is submitted; its period is frozen.", number=report.number),
          "success")
    return see_other("manager.partner_report", partner_report_id=report.id)


# Asked of a submitted report too, so that the service says it is frozen (not a 404).
@route(bp, "/partner-reports/<int:partner_report_id>/period", methods=("POST",), load=REPORT,
       permission=policy.can_view_partner_reports, form=PeriodEndForm,
       render=lambda form, error=None, report=None: _report_page(
           report, period_form=form, period_error=error))
def change_partner_period(form: PeriodEndForm, report: PartnerReport):
    reports.change_period_end(report, current_user, form.period_end.data)
    flash(_("Report %(number)s now ends on %(day)s.", number=report.number,
            day=day(report.period_end)), "success")
    return see_other("manager.partner_report", partner_report_id=report.id)


# The workbooks are made by jobs (vouchers/jobs/file_kinds.py): the button queues one and
# its page offers the file when it is ready.
@route(bp, "/partner-reports/<int:partner_report_id>/list-of-expenditure.xlsx", load=REPORT,
       methods=("POST",), permission=policy.can_view_partner_reports, form=ButtonForm,
       render=lambda form, error=None, report=None: _report_page(report, error=error))
def partner_report_xlsx(form: ButtonForm, report: PartnerReport):
    job = jobs.submit("partner_report", {"partner_report_id": report.id}, user=current_user,
                      title=_("List of expenditure of %(partner)s, report %(number)s",
                              partner=report.partner.name, number=report.number))
    return see_other("manager.job", job_id=job.id)


@route(bp, "/programmes/<int:programme_id>/consortium", load=PROGRAMME,
       permission=policy.can_view_consortium)
def consortium_summary(programme: Programme):
    return _consortium_page(programme)


def _consortium_page(programme: Programme, error: str | None = None):
    return render_template("manager/partner_reports_consortium.html", programme=programme,
                           rows=summary.consortium_summary(programme), error=error,
                           download_form=ButtonForm(formdata=None))


@route(bp, "/programmes/<int:programme_id>/consortium.xlsx", load=PROGRAMME,
       methods=("POST",), permission=policy.can_view_consortium, form=ButtonForm,
       render=lambda form, error=None, programme=None: _consortium_page(programme, error))
def consortium_summary_xlsx(form: ButtonForm, programme: Programme):
    job = jobs.submit("consortium_summary", {"programme_id": programme.id}, user=current_user,
                      title=_("Consortium summary of %(programme)s", programme=programme.name))
    return see_other("manager.job", job_id=job.id)
