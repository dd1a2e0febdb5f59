"""The funder's workbook as a download from a call's dashboard (managers only).

The route declares its permission like every other; the service gathers and writes the
workbook, the view only parses the filters and sends the file.
"""

from __future__ import annotations

import tempfile

from flask import flash, redirect, request, send_file, url_for
from flask_login import current_user
from wtforms import DateField, Form, SelectMultipleField
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import policy
from ..boundary import by_id, route
from ..models import Call
from ..models.base import utcnow
from ..services.errors import DomainError
from ..services.workbook import (
    XLSX_MIMETYPE,
    WorkbookFilters,
    budget_export,
    generated_by,
    workbook_filename,
)
from .blueprint import bp

# A small call's workbook is built in memory; a large one spills to a temporary file
# instead of holding megabytes per request in a worker.
SPOOL_IN_MEMORY = 4 * 1024 * 1024

_DATE_MESSAGE = "Give the date as YYYY-MM-DD."


class WorkbookFilterForm(Form):
    """The workbook's filters, read from the query string (a GET download needs no CSRF)."""

    type = SelectMultipleField(
        "Voucher types",
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        invalid_choice_message="Choose among the voucher types of this call.",
        description="None ticked: every voucher type.",
    )
    # "from" and "to" are what the URL says; they are not valid attribute names.
    date_from = DateField("Awarded from", [Optional()], name="from",
                          invalid_value_message=_DATE_MESSAGE)
    date_to = DateField("Awarded to", [Optional()], name="to",
                        invalid_value_message=_DATE_MESSAGE,
                        description="Both dates included; leave empty for no limit.")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end of the award date range is before its start.")

    @property
    def filters(self) -> WorkbookFilters:
        return WorkbookFilters(
            voucher_types=tuple(self.type.data or ()),
            awarded_from=self.date_from.data,
            awarded_to=self.date_to.data,
        )


def workbook_form(call: Call, formdata=None) -> WorkbookFilterForm:
    form = WorkbookFilterForm(formdata)
    form.type.choices = [(t.voucher_type, t.label) for t in call.voucher_types]
    return form


@bp.context_processor
def _workbook_form_factory():
    # templates/manager/_workbook_form.html builds its form from the call it is shown for.
    return {"workbook_form": workbook_form}


def _not_made(call: Call, *messages: str):
    # A GET changes nothing: back to the dashboard, where the form is, with the reasons.
    for message in messages:
        flash(f"Workbook not made: {message}", "error")
    return redirect(url_for("manager.dashboard", call_id=call.id))


@route(bp, "/calls/<int:call_id>/workbook.xlsx", permission=policy.can_run_programme,
       load={"call": by_id(Call)})
def download_workbook(call: Call):
    form = workbook_form(call, request.args)
    if not form.validate():
        return _not_made(call, *(m for errors in form.errors.values() for m in errors))
    return _send(call, form.filters)


def _send(call: Call, filters: WorkbookFilters):
    now = utcnow()
    # Not a with-block: send_file closes the spool once the response has been sent.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        with budget_export(call, filters) as export:
            export.write(spool, generated_by=generated_by(current_user), now=now)
        size = spool.tell()
        spool.seek(0)
    except DomainError as exc:
        spool.close()
        return _not_made(call, exc.message)
    except BaseException:
        spool.close()
        raise
    response = send_file(spool, mimetype=XLSX_MIMETYPE, as_attachment=True,
                         download_name=workbook_filename(call, now, filters))
    response.content_length = size
    response.cache_control.no_cache = None
    response.cache_control.no_store = True
    return response
