"""Companies: the manager finds an SME and corrects its details.

An applicant can no longer change the legal name, registry number, country, region or
declared de minimis aid once the company has submitted an application; the managers
correct them here, giving a reason that is kept with the change in the company's history.
"""

from __future__ import annotations

from flask import flash, render_template, request
from flask_login import current_user

from .. import policy
from ..boundary import by, route, see_other
from ..models import Organisation
from ..navigation import nav_item
from ..services import organisations as companies
from .blueprint import bp
from .forms import CorrectionForm, OrganisationSearchForm

nav_item("manager", "Companies", "manager.organisations", order=45)

# The fields of the correction form that correct_organisation takes.
CORRECTED = (*companies.FIELD_LABELS, "reason")


@route(bp, "/organisations", permission=policy.can_manage)
def organisations():
    form = OrganisationSearchForm(request.args)
    text = form.q.data if form.validate() else ""
    found = companies.find_companies(text, request.args.get("page", 1, type=int))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("manager/organisations.html", form=form, page=found.page,
                           page_args=args, counts=found.counts, searched=found.searched)


def _company_page(form, organisation: Organisation, error=None):
    return render_template("manager/organisation_form.html", form=form, error=error,
                           organisation=organisation,
                           record=companies.company_record(organisation))


@route(bp, "/organisations/<int:organisation_id>", permission=policy.can_manage,
       load={"organisation": by("organisation_id", companies.sme_by_id)},
       form=lambda organisation: CorrectionForm(organisation=organisation),
       render=_company_page)
def edit_organisation(form, organisation: Organisation):
    changed = companies.correct_organisation(
        organisation, current_user, **{name: form[name].data for name in CORRECTED})
    flash(f"The details of {organisation.legal_name} are corrected ({', '.join(changed)}).",
          "success")
    return see_other("manager.organisations", q=organisation.registry_number)
