"""Bank details to confirm: the changes applicants asked for after an award.

Until a manager confirms a change, payments go to the confirmed account; a change is
confirmed or refused (with a reason the applicants see) here or on the company's page,
and the manager goes back to where they decided it.
"""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from .. import policy
from ..boundary import by_id, route, see_other
from ..models.ledger import BankDetailsChange
from ..navigation import nav_item
from ..services import bank_details as banking
from .blueprint import bp
from .forms_bank import ConfirmBankChangeForm, RefuseBankChangeForm
from .organisations import company_page

nav_item("manager", lazy_gettext("Bank details to confirm"), "manager.bank_changes", order=46)

CHANGE = {"change": by_id(BankDetailsChange)}


def _list_page(errors: dict[int, str] | None = None, refuse_forms=None):
    """The waiting changes; ``errors`` and ``refuse_forms`` by change id (a refusal)."""
    changes, errors = banking.pending_changes(), errors or {}
    listed = {c.id for c in changes}
    return render_template("manager/bank_changes.html", changes=changes, errors=errors,
                           # A refusal about a change decided meanwhile, no longer listed.
                           other_errors=[m for i, m in errors.items() if i not in listed],
                           refuse_forms=refuse_forms or {},
                           details_of=banking.BankDetails.of,
                           confirm_form=ConfirmBankChangeForm(formdata=None),
                           refuse_form=RefuseBankChangeForm(formdata=None))


def _refused(form, error, change: BankDetailsChange, refuse_form=None):
    """The decision's page again, with why it did not happen next to the change."""
    message = error or " ".join(str(e) for errors in form.errors.values() for e in errors)
    if form.back.data == "company":
        return company_page(organisation=change.organisation, bank={
            "decision_error": message, "refuse_form": refuse_form})
    return _list_page({change.id: message}, {change.id: refuse_form} if refuse_form else {})


def _back(form, change: BankDetailsChange):
    if form.back.data == "company":
        return see_other("manager.edit_organisation", "bank-heading",
                         organisation_id=change.organisation_id)
    return see_other("manager.bank_changes")


@route(bp, "/bank-changes", permission=policy.can_run_programme)
def bank_changes():
    return _list_page()


@route(bp, "/bank-changes/<int:change_id>/confirm", methods=("POST",), load=CHANGE,
       permission=policy.can_decide_bank_change, form=ConfirmBankChangeForm,
       render=lambda form, error=None, change=None: _refused(form, error, change))
def confirm_bank_change(form: ConfirmBankChangeForm, change: BankDetailsChange):
    banking.confirm_change(change, current_user)
    flash(_("The new bank details of %(company)s are confirmed; payments go to the new "
            "account from now on.", company=change.organisation.legal_name), "success")
    return _back(form, change)


@route(bp, "/bank-changes/<int:change_id>/refuse", methods=("POST",), load=CHANGE,
       permission=policy.can_decide_bank_change, form=RefuseBankChangeForm,
       render=lambda form, error=None, change=None: _refused(form, error, change, form))
def refuse_bank_change(form: RefuseBankChangeForm, change: BankDetailsChange):
    banking.refuse_change(change, current_user, form.reason.data)
    flash(_("The change of %(company)s's bank details is refused; the confirmed details "
            "stay.", company=change.organisation.legal_name), "success")
    return _back(form, change)
