"""The privacy notice: what the programme holds about applicants, why, and for how long
(the periods are the configured ones services/retention.py applies)."""

from __future__ import annotations

from flask import render_template

from .. import policy
from ..boundary import route
from ..page_cache import visitor_page
from ..services import privacy, retention
from .views import bp


@route(bp, "/privacy", permission=policy.can_visit)
@visitor_page
def privacy_notice():
    return render_template("public/privacy.html", version=privacy.NOTICE_VERSION,
                           periods=retention.periods())
