"""Alembic environment for Flask-Migrate: online and offline, SQLite (batch mode) and PostgreSQL."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    # Keep the app's loggers alive when migrations run inside the app (tests, demo).
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option("sqlalchemy.url",
                       target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))

# Flask-Session owns the shape of its table; the migration creates it, autogenerate leaves it alone.
SESSION_TABLE = current_app.config.get("SESSION_SQLALCHEMY_TABLE", "sessions")


def include_object(obj, name, type_, reflected, compare_to):
    """Skip the Flask-Session table when comparing models and database."""
    return not (type_ == "table" and name == SESSION_TABLE)


def _common_args() -> dict:
    return {"target_metadata": target_db.metadata, "include_object": include_object,
            "compare_type": True, "render_as_batch": True}


def run_migrations_offline():
    """Emit SQL to stdout (`flask db upgrade --sql`)."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **_common_args())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run against the app's engine; an autogenerate with no changes writes no file."""
    def process_revision_directives(ctx, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    for key in ("compare_type", "render_as_batch"):
        conf_args.pop(key, None)
    with target_db.engine.connect() as connection:
        context.configure(connection=connection, **conf_args, **_common_args())
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
