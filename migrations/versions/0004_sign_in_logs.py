"""Sign-in attempts imported from Entra's sign-in logs; the import's watermark; when a requester's lock started;
unverified tickets from the public "Can't sign in?" form. Reports tenants installed more than once (from now on
a second install is refused; the admin keeps one and uninstalls the other).

Revision ID: 0004
Revises: 0003
"""
import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0004'
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
WIDENED = [('user_principal_name', 255), ('display_name', 255), ('given_name', 120), ('surname', 120),
           ('business_phone', 60), ('mobile_phone', 60), ('employee_id', 60), ('job_title', 200), ('department', 200),
           ('company_name', 200), ('office_location', 200), ('employee_type', 60), ('street_address', 255),
           ('city', 120), ('state', 120), ('postal_code', 40), ('country', 120)]
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    _report_tenants_installed_twice()
    op.create_table(
        'sync_conflicts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('key', sa.String(length=1024), nullable=False),
        sa.Column('requester_ids', JSON, nullable=False),
        sa.Column('detail', JSON, nullable=False),
        sa.Column('found_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'],
                                name=op.f('fk_sync_conflicts_integration_id_integrations')),
        sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_sync_conflicts_run_id_sync_runs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflicts')),
    )
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_conflicts_integration_id'), ['integration_id'], unique=False)
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conflicts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('excluded', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'sync_changes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('object_id', sa.String(length=36), nullable=False),
        sa.Column('label', sa.String(length=1024), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('fields', JSON, nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['sync_runs.id'], name=op.f('fk_sync_changes_run_id_sync_runs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_changes')),
    )
    with op.batch_alter_table('sync_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_changes_run_id'), ['run_id'], unique=False)
    op.create_table(
        'sign_in_events',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('microsoft_id', sa.String(length=64), nullable=False),
        sa.Column('requester_id', sa.Integer(), nullable=True),
        sa.Column('user_object_id', sa.String(length=36), nullable=True),
        sa.Column('user_principal_name', sa.Text(), nullable=True),
        sa.Column('user_display_name', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('error_code', sa.Integer(), nullable=False),
        sa.Column('failure_reason', sa.Text(), nullable=True),
        sa.Column('ip_address', sa.String(length=64), nullable=True),
        sa.Column('browser', sa.Text(), nullable=True),
        sa.Column('operating_system', sa.Text(), nullable=True),
        sa.Column('city', sa.Text(), nullable=True),
        sa.Column('country', sa.String(length=8), nullable=True),
        sa.Column('client_app', sa.Text(), nullable=True),
        sa.Column('interactive', sa.Boolean(), nullable=True),
        sa.Column('correlation_id', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'],
                                name=op.f('fk_sign_in_events_integration_id_integrations')),
        sa.ForeignKeyConstraint(['requester_id'], ['requesters.id'], name=op.f('fk_sign_in_events_requester_id_requesters')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_events')),
        sa.UniqueConstraint('integration_id', 'microsoft_id', name=op.f('uq_sign_in_events_integration_id')),
    )
    with op.batch_alter_table('sign_in_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_events_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_sign_in_events_requester_created', ['requester_id', 'created_at'], unique=False)
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sign_in_watermark', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sign_in_status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('sign_in_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sign_in_while_paused', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('guest_policy', sa.String(length=20), server_default='include', nullable=False))
    with op.batch_alter_table('requesters', schema=None) as batch_op:
        for column, old in WIDENED:  # Graph's longest mappable attribute is 1024 characters: nothing is cut
            batch_op.alter_column(column, existing_type=sa.String(length=old), type_=sa.String(length=1024),
                                  existing_nullable=column != 'display_name')
        batch_op.add_column(sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('microsoft_locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_requesters_locked_until'), ['locked_until'], unique=False)
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unverified', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), nullable=True))
        batch_op.alter_column('requester_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.drop_table('sync_changes')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_column('excluded')
        batch_op.drop_column('conflicts')
    op.drop_table('sync_conflicts')
    op.execute(sa.text("DELETE FROM ticket_events WHERE ticket_id IN (SELECT id FROM tickets WHERE requester_id IS NULL)"))
    op.execute(sa.text("DELETE FROM tickets WHERE requester_id IS NULL"))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('requester_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('contact_email')
        batch_op.drop_column('unverified')
    with op.batch_alter_table('requesters', schema=None) as batch_op:
        for column, old in WIDENED:  # values longer than the old width are cut back on the way down
            op.execute(sa.text(f"UPDATE requesters SET {column} = substr({column}, 1, {old}) "  # noqa: S608 (constants)
                               f"WHERE length({column}) > {old}"))
            batch_op.alter_column(column, existing_type=sa.String(length=1024), type_=sa.String(length=old),
                                  existing_nullable=column != 'display_name')
        batch_op.drop_index(batch_op.f('ix_requesters_locked_until'))
        batch_op.drop_column('microsoft_locked_until')
        batch_op.drop_column('locked_at')
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.drop_column('guest_policy')
        batch_op.drop_column('sign_in_while_paused')
        batch_op.drop_column('paused_at')
        batch_op.drop_column('sign_in_note')
        batch_op.drop_column('sign_in_status')
        batch_op.drop_column('sign_in_watermark')
    op.drop_table('sign_in_events')


def _report_tenants_installed_twice():
    rows = op.get_bind().execute(sa.text(
        "SELECT directory_tenant_id, COUNT(*), MIN(name), MAX(name) FROM integrations "
        "WHERE directory_tenant_id IS NOT NULL GROUP BY directory_tenant_id HAVING COUNT(*) > 1")).all()
    for tenant, count, first, last in rows:
        logging.getLogger("alembic.runtime.migration").warning(
            "Tenant %s is installed %s times (for example '%s' and '%s'): keep one installation and uninstall the "
            "others; a new second install is refused.", tenant, count, first, last)
