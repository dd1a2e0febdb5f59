"""The applicant's pages: one blueprint, every route guarded by role."""

from flask import Blueprint

from ..boundary import guard_blueprint
from ..policy import can_apply

bp = Blueprint("applicant", __name__)
guard_blueprint(bp, can_apply)
