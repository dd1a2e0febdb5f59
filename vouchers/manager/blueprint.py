"""The manager's pages: one blueprint, every route guarded by role."""

from flask import Blueprint

from ..boundary import guard_blueprint
from ..policy import can_manage

bp = Blueprint("manager", __name__)
guard_blueprint(bp, can_manage)
