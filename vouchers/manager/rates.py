"""The InforEuro rates imported (`flask --app vouchers import-rates`), month by month: what
the payments and final reports in partners' currencies convert at. Read only: the rates
come from the Commission's files, never typed in."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext

from .. import policy
from ..boundary import route
from ..navigation import nav_item
from ..services import rate_import
from .blueprint import bp

nav_item("manager", lazy_gettext("Rates"), "manager.rates", order=86)


@route(bp, "/rates", permission=policy.can_run_programme)
def rates():
    return render_template("manager/rates.html", months=rate_import.months())
