"""Pages anyone may see: the open calls and what they offer, and the site's icon."""

from flask import Blueprint, current_app, render_template, send_from_directory

from .. import policy
from ..boundary import route
from ..models.base import utcnow
from ..services.calls import open_calls

bp = Blueprint("public", __name__)


@route(bp, "/", permission=policy.can_visit)
def index():
    return render_template("public/index.html", calls=open_calls(utcnow()))


@route(bp, "/favicon.ico", permission=policy.can_visit)
def favicon():
    """Browsers and feed readers ask for /favicon.ico whatever the page links to."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)
