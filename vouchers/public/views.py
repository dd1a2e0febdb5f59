"""Pages anyone may see: the open calls and what they offer."""

from flask import Blueprint, render_template

from ..models.base import utcnow
from ..services.calls import open_calls

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    return render_template("public/index.html", calls=open_calls(utcnow()))
