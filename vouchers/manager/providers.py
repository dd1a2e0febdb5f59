"""The service provider catalogue validation vouchers buy from."""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user

from .. import policy
from ..boundary import back_to, by_id, route, see_other
from ..models import ServiceProvider
from ..navigation import nav_item
from ..services import providers as catalogue
from .blueprint import bp
from .forms_providers import ConfirmForm, ProviderForm

nav_item("manager", lazy_gettext("Service providers"), "manager.providers", order=40)


@route(bp, "/providers", permission=policy.can_manage)
def providers():
    return render_template("manager/providers.html", entries=catalogue.catalogue(),
                           confirm=ConfirmForm(formdata=None))


def _provider_page(form, error=None, provider: ServiceProvider | None = None):
    return render_template("manager/providers_form.html", form=form, provider=provider,
                           problems=error.splitlines() if error else [])


@route(bp, "/providers/new", permission=policy.can_run_programme, form=ProviderForm,
       render=_provider_page)
def new_provider(form):
    provider = catalogue.add_provider(form.to_spec(), current_user)
    flash(_("%(name)s added to the catalogue.", name=provider.name), "success")
    return see_other(".providers")


@route(bp, "/providers/<int:provider_id>/edit", permission=policy.can_run_programme,
       load={"provider": by_id(ServiceProvider)},
       form=lambda provider: ProviderForm(obj=provider), render=_provider_page)
def edit_provider(form, provider: ServiceProvider):
    catalogue.update_provider(provider, form.to_spec(), current_user)
    flash(_("%(name)s saved.", name=provider.name), "success")
    return see_other(".providers")


def _back_to_list(form=None, error=None, provider=None):
    # A refusal (or an expired form) is shown as a message on the catalogue.
    return back_to(".providers", error or _("The form expired; press the button again."))


@route(bp, "/providers/<int:provider_id>/deactivate", permission=policy.can_run_programme,
       load={"provider": by_id(ServiceProvider)}, form=ConfirmForm, render=_back_to_list,
       methods=("POST",))
def deactivate_provider(form, provider: ServiceProvider):
    catalogue.set_provider_active(provider, False, current_user)
    flash(_("%(name)s is deactivated: applicants can no longer choose it; applications that "
            "name it keep it.", name=provider.name), "success")
    return see_other(".providers")


@route(bp, "/providers/<int:provider_id>/reactivate", permission=policy.can_run_programme,
       load={"provider": by_id(ServiceProvider)}, form=ConfirmForm, render=_back_to_list,
       methods=("POST",))
def reactivate_provider(form, provider: ServiceProvider):
    catalogue.set_provider_active(provider, True, current_user)
    flash(_("%(name)s is back in applicants' choices.", name=provider.name), "success")
    return see_other(".providers")
