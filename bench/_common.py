"""What the benchmarks share: an app on a fresh database, migrated like a real one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vouchers import create_app  # noqa: E402


def make_app(url: str, instance: str, **config):
    """The app on ``url`` with ``instance`` as its instance folder, after `flask db upgrade`."""
    os.environ["INSTANCE_PATH"] = instance
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench-secret-key",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        **config,
    })
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
    return app
