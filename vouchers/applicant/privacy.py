"""The applicant's data: what consents they gave, how long the company's records are kept,
and "Download my data", everything held about them and their company as one zip
(services/data_export.py)."""

from __future__ import annotations

import tempfile

from flask import render_template, send_file
from flask_babel import lazy_gettext
from flask_login import current_user

from .. import policy
from ..boundary import route
from ..clock import today
from ..navigation import nav_item
from ..services import data_export
from .blueprint import bp

nav_item("applicant", lazy_gettext("My data"), "applicant.my_data", order=90)


@route(bp, "/my-data", permission=policy.can_apply)
def my_data():
    return render_template("applicant/my_data.html", **data_export.page_of(current_user))


@route(bp, "/my-data.zip", permission=policy.can_apply)
def my_data_zip():
    # On disk, not in memory: the files may weigh tens of megabytes.
    target = tempfile.TemporaryFile()  # noqa: SIM115  (the response closes it)
    data_export.write_zip(current_user, target)
    target.seek(0)
    response = send_file(target, mimetype="application/zip", as_attachment=True,
                         download_name=f"my-data-{today().isoformat()}.zip", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
