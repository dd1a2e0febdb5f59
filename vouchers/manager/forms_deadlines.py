"""The deadline fields of the call form: when reviews are due, and how long after a
voucher's activity its final report is due (services/deadlines.py says what they mean).

The call form (forms_calls.CallForm) carries these fields. A post that does not carry
them at all (a script older than them) keeps what the page would have shown, as
forms_call_rules.posted_with_rules does for the rules.
"""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from werkzeug.datastructures import MultiDict
from wtforms import DateField
from wtforms.validators import InputRequired, NumberRange, Optional

from ..clock import local_date
from ..fields import CountField
from ..models import Call
from ..services import deadlines

LEAST, MOST = deadlines.MIN_REPORT_DAYS, deadlines.MAX_REPORT_DAYS


class CallDeadlineFields:
    """Mixed into the call form, which has opens_at and a programme."""

    review_deadline = DateField(
        lazy_gettext("Reviews due by"), validators=[Optional()],
        description=lazy_gettext("The last day for evaluators' reviews. Evaluators are "
                                 "reminded a few days before, and once more when it has "
                                 "passed. Empty: no review deadline."))
    report_due_days = CountField(
        lazy_gettext("Final report due (days after the activity ends)"),
        description=lazy_gettext("Each voucher's report deadline is set when it is awarded: "
                                 "the day its trip or service ends, plus these days. Changing "
                                 "the number later does not move the deadlines of vouchers "
                                 "already awarded."),
        validators=[InputRequired(lazy_gettext("Give the number of days.")),
                    NumberRange(min=LEAST, max=MOST,
                                message=lazy_gettext("From %(least)s to %(most)s days.",
                                                     least=LEAST, most=MOST))])

    def check_deadline(self) -> bool:
        """The review deadline lies between the call's opening and the programme's end;
        its error goes next to the field."""
        due, opens, programme = self.review_deadline.data, self.opens_at.data, self.programme
        if due is None:
            return True
        if opens is not None and due < local_date(opens):
            self.review_deadline.errors.append(
                gettext("Not before the call opens (%(day)s).",
                        day=deadlines.day(local_date(opens))))
            return False
        if programme is not None and due > programme.ends_on:
            self.review_deadline.errors.append(
                gettext("Not after the programme ends (%(day)s).",
                        day=deadlines.day(programme.ends_on)))
            return False
        return True

    def deadlines_spec(self) -> dict:
        """The CallSpec keyword arguments of the deadlines."""
        return {"review_deadline": self.review_deadline.data,
                "report_due_days": self.report_due_days.data}


def deadlines_data(call: Call | None = None) -> dict:
    """The fields' initial values: the call's, or a new call's."""
    if call is None:
        return {"report_due_days": deadlines.DEFAULT_REPORT_DAYS}
    return {"review_deadline": call.review_deadline, "report_due_days": call.report_due_days}


def posted_with_deadlines(formdata, shown) -> MultiDict:
    """``formdata`` with the deadline fields it lacks altogether taken from ``shown``."""
    missing = [f for f in (shown.review_deadline, shown.report_due_days)
               if f.name not in formdata]
    if not missing:
        return formdata
    merged = MultiDict(formdata)
    for f in missing:
        merged[f.name] = "" if f.data is None else str(f.data)
    return merged
