"""The voucher grant management app."""

import gc
import os

from flask import Flask

from . import logging_setup
from .config import from_environment, refuse_unsafe_production
from .database import configure_sqlite
from .extensions import csrf, db, login_manager, mail, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH", os.path.join(ROOT, "instance")),
        template_folder=os.path.join(ROOT, "templates"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    refuse_unsafe_production(app.config)
    logging_setup.init_app(app)  # JSON lines or text, each with its request's id

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    mail.init_app(app)
    from . import input_checks, policy

    input_checks.init_app(app)  # before CSRF: broken text gets its own message
    csrf.init_app(app)
    policy.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)

    from . import applicant, cli, evaluator, formatting, manager, navigation
    from .auth import loader  # noqa: F401  (registers the user loader)
    from .auth.views import bp as auth_bp
    from .files.views import bp as files_bp
    from .public.views import bp as public_bp

    formatting.init_app(app)
    from . import i18n  # Flask-Babel: the request's language, compiled catalogues

    i18n.init_app(app)
    navigation.init_app(app)
    cli.init_app(app)
    from .security import init_app as init_security  # headers, session cookie, error pages

    init_security(app)
    from . import page_cache  # anonymous visitors' public pages, kept for a few seconds

    page_cache.init_app(app)
    app.register_blueprint(public_bp)
    from .health import bp as health_bp  # /healthz for the load balancer

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp, url_prefix="/account")
    app.register_blueprint(applicant.bp, url_prefix="/apply")
    app.register_blueprint(evaluator.bp, url_prefix="/evaluate")
    app.register_blueprint(manager.bp, url_prefix="/manage")
    app.register_blueprint(files_bp, url_prefix="/files")
    from . import api  # /api/v1, /api/openapi.json and /api/docs

    api.init_app(app)
    if app.config["APP_ENV"] == "production":
        # A server process keeps the app it just built (models, routes, templates) for its
        # whole life: the collector stops walking those objects, which a full collection
        # otherwise did every few dozen requests, a third of a cached page's CPU
        # (bench/bench_public_page.py).
        gc.freeze()
    return app
