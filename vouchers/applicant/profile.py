"""The applicant's company profile, the de minimis aid the company declares and the bank
account its payments go to.

Each aid already received is declared on its own, with its date: the award check counts
what was granted inside the rolling three years (services/aid.py, services/undertaking.py).
Bank details changed after an award wait for a manager (services/bank_details.py).
"""

from __future__ import annotations

from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from .. import policy
from ..boundary import back_to, by_id, route, see_other
from ..models import AidDeclaration
from ..services import aid
from ..services import bank_details as banking
from ..services.budget import de_minimis_cap, de_minimis_period_start
from ..services.organisations import FIELD_LABELS, frozen_fields, save_profile
from .blueprint import bp
from .forms_company import AidDeclarationForm, BankDetailsForm, ProfileForm, WithdrawAidForm

BANK_SAVED = {
    banking.APPLIED: lazy_gettext("The bank details are saved."),
    banking.REQUESTED: lazy_gettext("The new bank details await confirmation by the programme "
                                    "managers; payments go to the confirmed account until "
                                    "then."),
    banking.WITHDRAWN: lazy_gettext("The change awaiting confirmation is withdrawn; the "
                                    "confirmed bank details stay."),
}


def _profile_form(**kwargs) -> ProfileForm:
    organisation = current_user.organisation
    # Once the company has submitted, what the programme relies on is no longer edited here.
    return ProfileForm(organisation=organisation, frozen=frozen_fields(organisation), **kwargs)


def aid_section(organisation, aid_form=None, aid_error=None, withdraw_errors=None,
                endpoints=("applicant.declare_aid", "applicant.withdraw_aid"),
                **url_args) -> dict:
    """What templates/applicant/_aid_declarations.html needs (the manager's page too)."""
    declare, withdraw = endpoints
    overview = aid.overview(organisation)
    withdraw_errors = {k: v for k, v in (withdraw_errors or {}).items() if v}
    listed = {item.declaration.id for item in overview.items}
    return {
        "aid": overview, "aid_cap": de_minimis_cap(),
        "aid_period_start": de_minimis_period_start(overview.day),
        "aid_form": aid_form or AidDeclarationForm(formdata=None),
        "aid_error": aid_error, "withdraw_errors": withdraw_errors,
        # A refusal about a declaration no longer listed (withdrawn meanwhile).
        "aid_other_errors": [v for k, v in withdraw_errors.items() if k not in listed],
        "declare_url": url_for(declare, **url_args),
        "withdraw_url": lambda d: url_for(withdraw, declaration_id=d.id, **url_args),
    }


def bank_section(organisation, bank_form=None, bank_error=None, form_class=BankDetailsForm,
                 endpoint="applicant.bank_details", *, from_pending=True, **url_args) -> dict:
    """What templates/applicant/_bank_account.html needs (the manager's page too): the
    form shows the details awaiting confirmation (``from_pending``: the applicant edits
    their request), else the confirmed ones."""
    overview = banking.overview(organisation)
    shown = overview.pending_details if from_pending else None
    data = BankDetailsForm.data_of(shown or overview.confirmed)
    return {"bank": overview, "bank_error": bank_error, "decide": None,
            "bank_form": bank_form or form_class(formdata=None, data=data),
            "bank_url": url_for(endpoint, **url_args)}


def _page(form: ProfileForm | None = None, error: str | None = None, bank_form=None,
          bank_error=None, **aid_parts):
    form = form or _profile_form(formdata=None)
    organisation = current_user.organisation
    return render_template("applicant/profile.html", form=form, error=error,
                           frozen_labels=[_(FIELD_LABELS[name]) for name in form.frozen],
                           organisation=organisation,
                           **bank_section(organisation, bank_form, bank_error),
                           **aid_section(organisation, **aid_parts))


@route(bp, "/profile", permission=policy.can_apply, form=_profile_form, render=_page)
def profile(form: ProfileForm):
    save_profile(current_user, legal_name=form.legal_name.data,
                 registry_number=form.registry_number.data, vat_number=form.vat_number.data,
                 country=form.country.data, region=form.region.data, size=form.size.data,
                 sector=form.sector.data)
    flash(_("Company profile saved."), "success")
    return see_other("applicant.home")


# --- the bank account -------------------------------------------------------------------


def _has_profile_for_bank():
    if current_user.organisation_id is None:
        return back_to("applicant.profile", _("Save the company profile first, then give its "
                                              "bank details."), "info")
    return None


@route(bp, "/profile/bank", methods=("POST",), permission=policy.can_apply,
       before=_has_profile_for_bank, form=BankDetailsForm,
       render=lambda form, error=None: _page(bank_form=form, bank_error=error))
def bank_details(form: BankDetailsForm):
    outcome = banking.set_bank_details(current_user.organisation, current_user,
                                       form.iban.data, form.bic.data, form.account_holder.data)
    flash(str(BANK_SAVED[outcome]), "success" if outcome == banking.APPLIED else "info")
    return see_other("applicant.profile", _anchor="bank-heading")


# --- de minimis aid declared ------------------------------------------------------------


def _has_profile():
    if current_user.organisation_id is None:
        return back_to("applicant.profile", _("Save the company profile first, then declare "
                                              "the aid it received."), "info")
    return None


def _render_declare(form: AidDeclarationForm, error: str | None = None):
    return _page(aid_form=form, aid_error=error)


@route(bp, "/profile/aid", methods=("POST",), permission=policy.can_apply,
       before=_has_profile, form=AidDeclarationForm, render=_render_declare)
def declare_aid(form: AidDeclarationForm):
    aid.declare(current_user.organisation, current_user, form.granting_body.data,
                form.granted_on.data, form.amount.data)
    flash(_("The aid is declared."), "success")
    return see_other("applicant.profile", _anchor="aid-heading")


def withdraw_errors(form: WithdrawAidForm, error: str | None,
                    declaration: AidDeclaration) -> dict[int, str]:
    """The refusal next to the declaration's own Remove button."""
    message = error or " ".join(str(e) for errors in form.errors.values() for e in errors)
    return {declaration.id: message}


def _render_withdraw(form: WithdrawAidForm, error: str | None = None, declaration=None):
    return _page(withdraw_errors=withdraw_errors(form, error, declaration))


@route(bp, "/profile/aid/<int:declaration_id>/withdraw", methods=("POST",),
       permission=policy.can_withdraw_aid, load={"declaration": by_id(AidDeclaration)},
       form=WithdrawAidForm, render=_render_withdraw)
def withdraw_aid(form: WithdrawAidForm, declaration: AidDeclaration):
    aid.withdraw(declaration, current_user, form.reason.data)
    flash(_("The declaration is withdrawn."), "success")
    return see_other("applicant.profile", _anchor="aid-heading")
