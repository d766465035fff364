"""The application factory: configure, then register extensions, blueprints, errors and commands."""
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal.models._types import MAX_ID

ROOT = Path(__file__).resolve().parent.parent


class DatabaseId(IntegerConverter):
    """`<int:...>` in routes: ids above what the database holds are a 404, not an overflow deep in a query."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def build_app(config_object=None, **overrides) -> Flask:
    """Application factory: configure, then register extensions, blueprints, errors and commands."""
    if config_object is None:
        from config import config_from_env

        config_object = config_from_env()
    # FRONTDESK_INSTANCE (config.INSTANCE_DIR) holds keys, the SQLite file and the demo's files: one place for all.
    instance = overrides.get("INSTANCE_PATH") or getattr(config_object, "INSTANCE_PATH", None) or ROOT / "instance"
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(Path(instance).resolve()))
    app.config.from_object(config_object)
    app.config.update(overrides)
    app.url_map.converters["int"] = DatabaseId
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_logging(app: Flask) -> None:
    """JSON lines in production, plain lines elsewhere."""
    from portal.logging_setup import configure_logging

    configure_logging(app.config["LOG_JSON"], app.config["LOG_LEVEL"])


def register_extensions(app: Flask) -> None:
    """Bind extensions; sessions and rate limits live in Redis when REDIS_URL is set, else the database."""
    from portal import (
        audit,
        identity,
        live_update_jobs,  # noqa: F401  (subscribes after the first sync)
        security,
    )
    from portal.devices import registry  # noqa: F401  (connects its account-event listener)
    from portal.extensions import csrf, db, limiter, login_manager, migrate, server_session
    from portal.session_store import configure_session_store, guard_session_store

    security.register_first_checks(app)  # before CSRF and the limiter, so their error pages carry a reference
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    configure_session_store(app)
    server_session.init_app(app)
    guard_session_store(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    limiter.init_app(app)
    login_manager.init_app(app)
    identity.register_loader(login_manager)
    security.register_security(app)
    audit.connect_signals()


def register_blueprints(app: Flask) -> None:
    """Admin, Microsoft sign-in and requester blueprints, plus template helpers."""
    from portal.admin import bp as admin_bp
    from portal.auth.views import bp as auth_bp
    from portal.requester import bp as requester_bp
    from portal.templating import register_template_helpers
    from portal.webhooks import bp as webhooks_bp

    app.register_blueprint(requester_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(webhooks_bp)
    register_template_helpers(app)


def register_errorhandlers(app: Flask) -> None:
    """One place maps PortalError and HTTP errors to pages or JSON."""
    from portal.errors import map_errors_to_pages

    map_errors_to_pages(app)


def register_commands(app: Flask) -> None:
    """The `flask` CLI groups: admin, audit, demo."""
    from portal.cli import register_cli

    register_cli(app)
