"""Pages anyone may see: the open calls and what they offer, and the site's icon."""

from flask import Blueprint, current_app, render_template, send_from_directory

from .. import policy
from ..boundary import route
from ..models.base import utcnow
from ..page_cache import visitor_page
from ..services import call_rules
from ..services.calls import open_calls

bp = Blueprint("public", __name__)


@route(bp, "/", permission=policy.can_visit)
@visitor_page
def index():
    calls = open_calls(utcnow())
    return render_template("public/index.html", calls=calls,
                           call_rules={c.id: call_rules.describe(c) for c in calls})


@route(bp, "/favicon.ico", permission=policy.can_visit)
def favicon():
    """Browsers and feed readers ask for /favicon.ico whatever the page links to."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)
