"""Routes are added by the feature that owns this module."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
