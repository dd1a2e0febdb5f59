"""The consortium: the lead partner's managers list a programme's partner agencies, add
and edit them (regions with NUTS codes, currency, lead flag, shares of the envelopes)."""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from .. import policy
from ..boundary import by_id, route, see_other
from ..currencies import PARTNER_CURRENCIES
from ..models import Partner, Programme
from ..navigation import nav_item
from ..services import partner_setup
from .blueprint import bp
from .forms_partners import partner_form

nav_item("manager", lazy_gettext("Partners"), "manager.partners", order=85)


@route(bp, "/partners", permission=policy.can_run_programme)
def partners():
    return render_template("manager/partners.html",
                           programmes=partner_setup.programmes_with_partners())


def _page(form, error=None, programme: Programme | None = None,
          partner: Partner | None = None):
    programme = programme or partner_setup.programme_of(partner)
    return render_template("manager/partner_form.html", form=form, programme=programme,
                           partner=partner, currencies=sorted(PARTNER_CURRENCIES),
                           problems=error.splitlines() if error else [])


@route(bp, "/programmes/<int:programme_id>/partners/new",
       permission=policy.can_run_programme, load={"programme": by_id(Programme)},
       form=lambda programme: partner_form(partner_setup.share_types(programme.id)),
       render=_page)
def new_partner(form, programme: Programme):
    partner = partner_setup.save_partner(programme, form.to_spec(), current_user)
    flash(_("%(partner)s is a partner of %(programme)s.", partner=partner.name,
            programme=programme.name), "success")
    return see_other(".partners")


@route(bp, "/partners/<int:partner_id>/edit", permission=policy.can_run_programme,
       load={"partner": by_id(Partner)},
       form=lambda partner: partner_form(partner_setup.share_types(partner.programme_id),
                                         partner),
       render=_page)
def edit_partner(form, partner: Partner):
    partner_setup.save_partner(partner_setup.programme_of(partner), form.to_spec(),
                               current_user, partner)
    flash(_("%(name)s saved.", name=partner.name), "success")
    return see_other(".partners")
