"""The funder's workbook, asked for from a call's dashboard (managers only).

A large call's workbook takes long to write, so the form queues a job (vouchers/jobs/) and
the manager follows it on the job's page, which offers the file when it is ready. The
filters are checked here first: a filter the call cannot have goes back to the dashboard
with the reason, and no job is made of it.
"""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import jobs, policy
from ..boundary import by_id, route, see_other
from ..jobs import file_kinds
from ..models import Call, Job
from ..services.workbook import WorkbookFilters
from .blueprint import bp

_DATE_MESSAGE = lazy_gettext("Give the date as YYYY-MM-DD.")


class WorkbookFilterForm(FlaskForm):
    """The workbook's filters, posted by the dashboard's form (with its CSRF token)."""

    type = SelectMultipleField(
        lazy_gettext("Voucher types"),
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        invalid_choice_message=lazy_gettext("Choose among the voucher types of this call."),
        description=lazy_gettext("None ticked: every voucher type."),
    )
    # "from" and "to" are what the form posts; they are not valid attribute names.
    date_from = DateField(lazy_gettext("Awarded from"), [Optional()], name="from",
                          invalid_value_message=_DATE_MESSAGE)
    date_to = DateField(lazy_gettext("Awarded to"), [Optional()], name="to",
                        invalid_value_message=_DATE_MESSAGE,
                        description=lazy_gettext("Both dates included; leave empty for no "
                                                 "limit."))

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_("The end of the award date range is before its start."))

    @property
    def filters(self) -> WorkbookFilters:
        return WorkbookFilters(
            voucher_types=tuple(self.type.data or ()),
            awarded_from=self.date_from.data,
            awarded_to=self.date_to.data,
        )


def workbook_form(call: Call, **form_kwargs) -> WorkbookFilterForm:
    """``form_kwargs``: the API hands its JSON body as ``formdata``."""
    form = WorkbookFilterForm(**form_kwargs)
    form.type.choices = [(t.voucher_type, _(t.label)) for t in call.voucher_types]
    return form


@bp.context_processor
def _workbook_form_factory():
    # templates/manager/_workbook_form.html builds its form from the call it is shown for.
    return {"workbook_form": workbook_form}


def _not_made(call: Call, form=None, error: str | None = None):
    # Back to the dashboard, where the form is, with the reasons; nothing was queued.
    messages = [m for errors in (form.errors if form else {}).values() for m in errors]
    for message in [*messages, *([error] if error else [])]:
        flash(_("Workbook not made: %(reason)s", reason=message), "error")
    return redirect(url_for("manager.dashboard", call_id=call.id))


@route(bp, "/calls/<int:call_id>/workbook.xlsx", methods=("POST",),
       permission=policy.can_run_programme, load={"call": by_id(Call)},
       form=lambda call: workbook_form(call), render=_not_made)
def download_workbook(form: WorkbookFilterForm, call: Call):
    job = queue_workbook(call, form.filters, current_user)
    return see_other("manager.job", job_id=job.id)


def queue_workbook(call: Call, filters: WorkbookFilters, user) -> Job:
    """The workbook's job (the page's and the API's), once the filters fit the call."""
    file_kinds.check_workbook(call, filters)
    title = (_("Budget workbook of %(code)s (filtered)", code=call.code) if filters.is_filtered
             else _("Budget workbook of %(code)s", code=call.code))
    return jobs.submit("workbook", file_kinds.workbook_params(call, filters), title=title,
                       user=user)
