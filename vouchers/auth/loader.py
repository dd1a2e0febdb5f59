"""How a session cookie becomes a user.

The cookie holds "<user id>:<session generation>". Logging out, changing the password
or disabling the account bumps the generation in the database, so every cookie issued
before stops working on every worker: the revocation lives on the server.
"""

from ..extensions import db, login_manager
from ..models import User


@login_manager.user_loader
def load_user(token: str) -> User | None:
    user_id, _, generation = token.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.enabled or user.session_generation != int(generation):
        return None
    return user
