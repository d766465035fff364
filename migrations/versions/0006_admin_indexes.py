"""Indexes for the admin pages at 100,000 requesters and a million audit events: the events about and by a
requester, sign-ins per day, the requester list in name order, live sessions by last activity and by device type
(ended sessions get an index of their own), and (on PostgreSQL with pg_trgm) substring search on requester names,
emails and UPNs. On PostgreSQL, autovacuum visits the audit log after every 1% of new rows, so its index answers the
dashboard's counts alone.

Revision ID: 0006
Revises: 0005
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None
LIVE = sa.text('ended_at IS NULL')
ENDED = sa.text('ended_at IS NOT NULL')
TRIGRAM_COLUMNS = ('display_name', 'email', 'user_principal_name')


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_target', ['target_type', 'target_id'], unique=False)
        batch_op.create_index('ix_audit_events_actor', ['actor_type', 'actor_id'], unique=False)
        batch_op.create_index('ix_audit_events_action_occurred', ['action', 'occurred_at', 'outcome'], unique=False)
    with op.batch_alter_table('requesters', schema=None) as batch_op:
        batch_op.create_index('ix_requesters_name_order', ['display_name', 'id', 'email', 'user_principal_name'],
                              unique=False)
    with op.batch_alter_table('device_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_device_sessions_live_seen', ['last_seen_at', 'id'], unique=False,
                              postgresql_where=LIVE, sqlite_where=LIVE)
        batch_op.create_index('ix_device_sessions_live_type', ['device_type'], unique=False,
                              postgresql_where=LIVE, sqlite_where=LIVE)
        # SQLite chose the whole ended_at index for "ended_at IS NULL" and sorted; it now holds ended sessions only.
        batch_op.drop_index('ix_device_sessions_ended_at')
        batch_op.create_index('ix_device_sessions_ended', ['ended_at'], unique=False,
                              postgresql_where=ENDED, sqlite_where=ENDED)
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql' and bind.dialect.server_version_info >= (13,):
        # The audit log only grows: by default autovacuum visits it after 20% more rows (weeks of events), and until
        # then the dashboard's sign-in count must read every recent row's page instead of the index alone.
        op.execute(sa.text('ALTER TABLE audit_events SET (autovacuum_vacuum_insert_scale_factor = 0.01)'))
    if _trigram_ready():
        for column in TRIGRAM_COLUMNS:
            op.execute(sa.text(f'CREATE INDEX ix_requesters_{column}_trgm ON requesters '
                               f'USING gin (lower({column}) gin_trgm_ops)'))


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(sa.text('ALTER TABLE audit_events RESET (autovacuum_vacuum_insert_scale_factor)'))
        for column in TRIGRAM_COLUMNS:
            op.execute(sa.text(f'DROP INDEX IF EXISTS ix_requesters_{column}_trgm'))
    with op.batch_alter_table('device_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_device_sessions_ended', postgresql_where=ENDED, sqlite_where=ENDED)
        batch_op.create_index('ix_device_sessions_ended_at', ['ended_at'], unique=False)
        batch_op.drop_index('ix_device_sessions_live_type', postgresql_where=LIVE, sqlite_where=LIVE)
        batch_op.drop_index('ix_device_sessions_live_seen', postgresql_where=LIVE, sqlite_where=LIVE)
    with op.batch_alter_table('requesters', schema=None) as batch_op:
        batch_op.drop_index('ix_requesters_name_order')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_action_occurred')
        batch_op.drop_index('ix_audit_events_actor')
        batch_op.drop_index('ix_audit_events_target')


def _trigram_ready() -> bool:
    """pg_trgm is installed, or can be (it is a trusted extension from PostgreSQL 13); otherwise search scans."""
    bind = op.get_bind()
    if bind.dialect.name != 'postgresql':
        return False
    if bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).scalar():
        return True
    if not bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar():
        _skip_trigram('the pg_trgm extension is not available on this server')
        return False
    try:
        with bind.begin_nested():
            bind.execute(sa.text('CREATE EXTENSION IF NOT EXISTS pg_trgm'))
    except sa.exc.DBAPIError as exc:
        _skip_trigram(f'pg_trgm could not be created ({exc.orig})')
        return False
    return True


def _skip_trigram(why: str) -> None:
    logging.getLogger('alembic.runtime.migration').warning(
        'Requester search will scan the table: %s. Install pg_trgm and run `flask db downgrade 0005 && flask db '
        'upgrade` to index it.', why)
