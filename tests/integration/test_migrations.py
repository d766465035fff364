"""The migrations build exactly the schema the models describe, and can be rolled back and replayed."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade


def _diff(db):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _skip_sessions})
        diff = compare_metadata(ctx, db.metadata)
        if conn.dialect.name == "postgresql" and not conn.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
            # Without pg_trgm the migration leaves out the trigram search indexes, on purpose.
            diff = [d for d in diff if not (d[0] == "add_index" and d[1].name.endswith("_trgm"))]
        return diff


def _skip_sessions(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name == "sessions")


def test_models_and_migrations_agree(db):
    """After `flask db upgrade` there is no pending autogenerate diff."""
    assert _diff(db) == []


def test_downgrade_then_upgrade_round_trip(db):
    """The initial migration can be undone and redone on this database."""
    db.session.remove()
    downgrade(revision="base")
    with db.engine.connect() as conn:
        tables = set(db.inspect(conn).get_table_names())
    assert "requesters" not in tables and "audit_events" not in tables
    upgrade()
    assert _diff(db) == []
