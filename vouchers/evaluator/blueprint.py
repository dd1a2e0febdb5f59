"""The evaluator's pages: one blueprint, every route guarded by role."""

from flask import Blueprint

from ..permissions import require_role_for_blueprint

bp = Blueprint("evaluator", __name__)
require_role_for_blueprint(bp, "evaluator")
