"""/api/docs: the OpenAPI document drawn by Swagger UI, served from the app's own files.

Swagger UI comes from the swagger-ui-bundle package (no CDN); a small script of ours
starts it, so the page keeps the app's Content-Security-Policy (no inline script).
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from .. import policy
from ..boundary import route

bp = Blueprint("api_docs", __name__, url_prefix="/api")
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"})


@route(bp, "/openapi.json", permission=policy.can_visit)
def openapi():
    """The OpenAPI 3.1 document, built by flask-smorest from the routes."""
    from . import api

    return jsonify(api.spec.to_dict())


@route(bp, "/docs", permission=policy.can_visit)
def page():
    return render_template("api/docs.html")


@route(bp, "/docs/assets/<name>", permission=policy.can_visit)
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    return send_from_directory(str(swagger_ui_path), name, max_age=86400)
