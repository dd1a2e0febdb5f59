"""Who may see and do what. Views and templates ask these; nothing else decides.

A page the user may not see answers 404, never 403, so its existence does not leak.
"""

from __future__ import annotations

from flask import abort, current_app, request
from flask_login import current_user

from .extensions import db, login_manager
from .models import Application, Attachment, User
from .services.operations import is_owner
from .services.reviews import active_assignment


def refuse(reason: str):
    """Log the refusal and answer 404."""
    user = current_user.email if current_user.is_authenticated else "anonymous"
    current_app.logger.warning("permission refused: %s %s for %s (%s)", request.method,
                               request.path, user, reason)
    abort(404)


def require_role_for_blueprint(bp, *roles: str) -> None:
    """Guard every route of ``bp`` (so a new route cannot forget the check)."""

    @bp.before_request
    def _check():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in roles:
            refuse(f"role {current_user.role} not in {roles}")
        return None


def can_view_application(user: User, application: Application) -> bool:
    if not user.is_authenticated:
        return False
    if user.role == "manager":
        return True
    if user.role == "applicant":
        return is_owner(user, application)
    if user.role == "evaluator":
        return active_assignment(application, user) is not None
    return False


def can_download(user: User, attachment: Attachment) -> bool:
    """Evaluators judge the application: its quotes and CVs, not the final report's
    evidence, which is for the applicant and the managers."""
    if not can_view_application(user, attachment.application):
        return False
    return user.role != "evaluator" or attachment.purpose == "application"


def application_or_404(application_id: int) -> Application:
    """The application if the current user may see it, else 404."""
    application = db.session.get(Application, application_id)
    if application is None:
        abort(404)
    if not can_view_application(current_user, application):
        refuse(f"application {application_id}")
    return application
