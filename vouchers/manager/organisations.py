"""Companies: the manager finds an SME and corrects its details.

An applicant can no longer change the legal name, registry number, country or region
once the company has submitted an application; the managers correct them here, giving a
reason that is kept with the change in the company's history. The de minimis aid the
company declared is listed here too, and a manager may declare or withdraw an aid. The
company's bank account is shown with a change awaiting confirmation (decided here or on
the list of bank changes, vouchers/manager/bank_changes.py); a manager's own change of
the account applies at once, with where it comes from.
"""

from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from .. import policy
from ..applicant.forms_company import AidDeclarationForm, WithdrawAidForm
from ..applicant.profile import aid_section, bank_section, withdraw_errors
from ..boundary import by, by_id, route, see_other
from ..models import AidDeclaration, Organisation
from ..navigation import nav_item
from ..services import aid
from ..services import bank_details as banking
from ..services import organisations as companies
from ..services.retention import retention_of
from .blueprint import bp
from .forms import CorrectionForm, OrganisationSearchForm
from .forms_bank import ConfirmBankChangeForm, ManagerBankDetailsForm, RefuseBankChangeForm

nav_item("manager", lazy_gettext("Companies"), "manager.organisations", order=45)

# The fields of the correction form that correct_organisation takes.
CORRECTED = (*companies.FIELD_LABELS, "reason")


@route(bp, "/organisations", permission=policy.can_manage)
def organisations():
    form = OrganisationSearchForm(request.args)
    text = form.q.data if form.validate() else ""
    found = companies.find_companies(text, request.args.get("page", 1, type=int),
                                     current_user)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("manager/organisations.html", form=form, page=found.page,
                           page_args=args, counts=found.counts, searched=found.searched)


ORGANISATION = {"organisation": by("organisation_id", companies.sme_by_id)}
AID_ENDPOINTS = ("manager.declare_aid", "manager.withdraw_aid")


def company_bank_section(organisation: Organisation, bank_form=None, bank_error=None,
                         refuse_form=None, decision_error=None) -> dict:
    """The bank account on the company's page, with the forms that decide a change."""
    # A manager's form starts from the confirmed details: saving it must not confirm the
    # waiting request by the way.
    parts = bank_section(organisation, bank_form, bank_error, ManagerBankDetailsForm,
                         "manager.bank_details", from_pending=False,
                         organisation_id=organisation.id)
    parts["decide"] = {"confirm": ConfirmBankChangeForm(formdata=None),
                       "refuse": refuse_form or RefuseBankChangeForm(formdata=None)}
    return {**parts, "decision_error": decision_error}


def company_page(form=None, organisation: Organisation | None = None, error=None,
                 bank=None, **aid_parts):
    form = form or CorrectionForm(organisation=organisation, formdata=None)
    return render_template("manager/organisation_form.html", form=form, error=error,
                           organisation=organisation,
                           record=companies.company_record(organisation),
                           retention=retention_of(organisation),
                           **company_bank_section(organisation, **(bank or {})),
                           **aid_section(organisation, endpoints=AID_ENDPOINTS,
                                         organisation_id=organisation.id, **aid_parts))


@route(bp, "/organisations/<int:organisation_id>", permission=policy.can_manage,
       load=ORGANISATION, form=lambda organisation: CorrectionForm(organisation=organisation),
       render=company_page)
def edit_organisation(form, organisation: Organisation):
    changed = companies.correct_organisation(
        organisation, current_user, **{name: form[name].data for name in CORRECTED})
    flash(_("The details of %(company)s are corrected (%(fields)s).",
            company=organisation.legal_name, fields=", ".join(map(str, changed))), "success")
    return see_other("manager.organisations", q=organisation.registry_number)


def _back_to_company(organisation: Organisation):
    return see_other("manager.edit_organisation", "aid-heading", organisation_id=organisation.id)


@route(bp, "/organisations/<int:organisation_id>/aid", methods=("POST",),
       permission=policy.can_declare_aid, load=ORGANISATION, form=AidDeclarationForm,
       render=lambda form, error=None, organisation=None: company_page(
           organisation=organisation, aid_form=form, aid_error=error))
def declare_aid(form: AidDeclarationForm, organisation: Organisation):
    aid.declare(organisation, current_user, form.granting_body.data, form.granted_on.data,
                form.amount.data)
    flash(_("The aid is declared for %(company)s.", company=organisation.legal_name), "success")
    return _back_to_company(organisation)


@route(bp, "/organisations/<int:organisation_id>/aid/<int:declaration_id>/withdraw",
       methods=("POST",), permission=policy.can_declare_aid, form=WithdrawAidForm,
       load={**ORGANISATION,
             "declaration": by_id(AidDeclaration, belongs_to="organisation")},
       render=lambda form, error=None, organisation=None, declaration=None: company_page(
           organisation=organisation, withdraw_errors=withdraw_errors(form, error, declaration)))
def withdraw_aid(form: WithdrawAidForm, organisation: Organisation,
                 declaration: AidDeclaration):
    aid.withdraw(declaration, current_user, form.reason.data)
    flash(_("The declaration is withdrawn from %(company)s's record.",
            company=organisation.legal_name), "success")
    return _back_to_company(organisation)


@route(bp, "/organisations/<int:organisation_id>/bank", methods=("POST",),
       permission=policy.can_edit_bank_details, load=ORGANISATION,
       form=ManagerBankDetailsForm,
       render=lambda form, error=None, organisation=None: company_page(
           organisation=organisation, bank={"bank_form": form, "bank_error": error}))
def bank_details(form: ManagerBankDetailsForm, organisation: Organisation):
    outcome = banking.set_bank_details(organisation, current_user, form.iban.data,
                                       form.bic.data, form.account_holder.data,
                                       reason=form.reason.data)
    flash(_("The bank details of %(company)s are saved.", company=organisation.legal_name)
          if outcome == banking.APPLIED else
          _("The change awaiting confirmation is withdrawn; the confirmed bank details stay."),
          "success")
    return see_other("manager.edit_organisation", "bank-heading",
                     organisation_id=organisation.id)
