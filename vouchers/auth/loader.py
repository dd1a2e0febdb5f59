"""How a session cookie becomes a user.

The cookie holds "<user id>:<session generation>". Logging out, changing the password
or disabling the account bumps the generation in the database, so every cookie issued
before stops working on every worker: the revocation lives on the server.
"""

from ..extensions import login_manager
from ..models import User
from ..models.base import MAX_ID
from ..services import accounts


@login_manager.user_loader
def load_user(token: str) -> User | None:
    user_id, _, generation = token.partition(":")
    if not user_id.isdigit() or not generation.isdigit() or not 0 < int(user_id) <= MAX_ID:
        return None
    return accounts.session_user(int(user_id), int(generation))
