"""The applicant's company profile, and the de minimis aid the company declares.

Each aid already received is declared on its own, with its date: the award check counts
what was granted inside the rolling three years (services/aid.py, services/undertaking.py).
"""

from __future__ import annotations

from flask import flash, render_template, url_for
from flask_login import current_user

from .. import policy
from ..boundary import back_to, by_id, route, see_other
from ..models import AidDeclaration
from ..services import aid
from ..services.budget import de_minimis_cap, de_minimis_period_start
from ..services.organisations import FROZEN_FIELDS, has_submitted, save_profile
from .blueprint import bp
from .forms import AidDeclarationForm, ProfileForm, WithdrawAidForm


def _profile_form(**kwargs) -> ProfileForm:
    organisation = current_user.organisation
    # Once the company has submitted, what the programme relies on is no longer edited here.
    frozen = FROZEN_FIELDS if organisation is not None and has_submitted(organisation) else ()
    return ProfileForm(organisation=organisation, frozen=frozen, **kwargs)


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


def _page(form: ProfileForm | None = None, error: str | None = None, **aid_parts):
    form = form or _profile_form(formdata=None)
    return render_template("applicant/profile.html", form=form, error=error,
                           frozen_labels=[FROZEN_FIELDS[name] for name in form.frozen],
                           organisation=current_user.organisation,
                           **aid_section(current_user.organisation, **aid_parts))


@route(bp, "/profile", permission=policy.can_apply, form=_profile_form, render=_page)
def profile(form: ProfileForm):
    save_profile(current_user, legal_name=form.legal_name.data,
                 registry_number=form.registry_number.data, country=form.country.data,
                 region=form.region.data, size=form.size.data, sector=form.sector.data)
    flash("Company profile saved.", "success")
    return see_other("applicant.home")


# --- de minimis aid declared ------------------------------------------------------------


def _has_profile():
    if current_user.organisation_id is None:
        return back_to("applicant.profile", "Save the company profile first, then declare "
                       "the aid it received.", "info")
    return None


def _render_declare(form: AidDeclarationForm, error: str | None = None):
    return _page(aid_form=form, aid_error=error)


@route(bp, "/profile/aid", methods=("POST",), permission=policy.can_apply,
       before=_has_profile, form=AidDeclarationForm, render=_render_declare)
def declare_aid(form: AidDeclarationForm):
    aid.declare(current_user.organisation, current_user, form.granting_body.data,
                form.granted_on.data, form.amount.data)
    flash("The aid is declared.", "success")
    return see_other("applicant.profile", _anchor="aid-heading")


def withdraw_errors(form: WithdrawAidForm, error: str | None,
                    declaration: AidDeclaration) -> dict[int, str]:
    """The refusal next to the declaration's own Remove button."""
    message = error or " ".join(e for errors in form.errors.values() for e in errors)
    return {declaration.id: message}


def _render_withdraw(form: WithdrawAidForm, error: str | None = None, declaration=None):
    return _page(withdraw_errors=withdraw_errors(form, error, declaration))


@route(bp, "/profile/aid/<int:declaration_id>/withdraw", methods=("POST",),
       permission=policy.can_withdraw_aid, load={"declaration": by_id(AidDeclaration)},
       form=WithdrawAidForm, render=_render_withdraw)
def withdraw_aid(form: WithdrawAidForm, declaration: AidDeclaration):
    aid.withdraw(declaration, current_user, form.reason.data)
    flash("The declaration is withdrawn.", "success")
    return see_other("applicant.profile", _anchor="aid-heading")
