"""The JSON API under /api/v1, its OpenAPI 3.1 document and its browsable documentation.

flask-smorest builds the document from the routes and their marshmallow schemas, so the
document cannot drift from the code; schemathesis tests the served document against the
app (tests/test_api_schemathesis.py). One blueprint per role, like the pages.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask
from flask_limiter import Limiter
from flask_smorest import Api as SmorestApi
from flask_smorest.utils import prepare_response

from ..extensions import csrf
from .identity import rate_key
from .problems import CONTENT_TYPE
from .schemas import DecimalString, ProblemSchema

API_PREFIX = "/api/v1"


class Api(SmorestApi):
    """flask-smorest, with problem documents for errors and no app-wide error handler
    (the pages keep their HTML error pages; vouchers/errors.py asks problems.for_api)."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        for status in HTTPStatus:
            if status < 400:  # 304 of an ETag: no body
                self.spec.components.response(status.name, {"description": status.phrase},
                                              lazy=True)
                continue
            response = {"description": status.phrase, "schema": self.ERROR_SCHEMA}
            prepare_response(response, self.spec, CONTENT_TYPE)
            self.spec.components.response(f"PROBLEM_{status.value}", response, lazy=True)
            # flask-smorest's own name for the 422 of a body that does not match.
            self.spec.components.response(status.name, response, lazy=True)


api = Api()
limiter = Limiter(key_func=rate_key, default_limits=[], headers_enabled=True)

SPEC = {
    "API_TITLE": "Voucher grant management API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    # No URL prefix: flask-smorest serves no document of its own; vouchers/api/docs.py
    # serves it behind the boundary, with the documentation page.
}


def init_app(app: Flask) -> None:
    from . import applicant, docs, evaluator, manager, manager_actions, public
    for key, value in SPEC.items():
        app.config.setdefault(key, value)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    limiter.init_app(app)
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "token": {"type": "http", "scheme": "bearer",
                  "description": "A personal access token from your account page."},
        "session": {"type": "apiKey", "in": "cookie", "name": "session",
                    "description": "The pages' session; changes need X-CSRFToken too."},
    }}})
    api.register_field(DecimalString, "string", "decimal")
    for module in (public, applicant, evaluator, manager, manager_actions):
        for bp in module.BLUEPRINTS:
            csrf.exempt(bp)
            api.register_blueprint(bp)
    app.register_blueprint(docs.bp)
