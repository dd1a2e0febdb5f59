"""Erasing a company: a lead partner's manager anonymises a company that never received
aid, at any time, after a confirmation page (services/privacy.py does it; a company that
received aid waits for its retention date and the purge, services/retention.py)."""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import lazy_gettext, ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import policy
from ..boundary import route, see_other
from ..models import Organisation
from ..services import privacy, retention
from .blueprint import bp
from .organisations import ORGANISATION


class AnonymiseForm(FlaskForm):
    reason = TextAreaField(lazy_gettext("Reason (optional)"),
                           validators=[Optional(), Length(max=500)],
                           description=lazy_gettext("Kept with the record of the erasure."))
    understood = BooleanField(
        lazy_gettext("I understand that names, addresses, bank details, texts and files are "
                     "erased for good."),
        validators=[DataRequired(lazy_gettext("Tick the box to confirm."))])
    submit = SubmitField(lazy_gettext("Anonymise the company"))


def _page(form, organisation: Organisation, error=None):
    return render_template("manager/organisation_anonymise.html", form=form, error=error,
                           organisation=organisation,
                           retention=retention.retention_of(organisation))


@route(bp, "/organisations/<int:organisation_id>/anonymise",
       permission=policy.can_run_programme, load=ORGANISATION, form=AnonymiseForm,
       render=_page)
def anonymise_organisation(form: AnonymiseForm, organisation: Organisation):
    removed = privacy.anonymise_company(organisation, current_user, form.reason.data or "")
    flash(ngettext("The company is anonymised (%(num)d file(s) deleted); its figures stay.",
                   "The company is anonymised (%(num)d file(s) deleted); its figures stay.",
                   removed), "success")
    return see_other("manager.edit_organisation", organisation_id=organisation.id)
