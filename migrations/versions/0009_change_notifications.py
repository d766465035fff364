"""Live updates: each integration's Graph change notification subscription, and the durable inbox of the
notifications it receives (stored before the webhook answers 202, processed by the scheduler's runner).

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'live_update_subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.String(length=64), nullable=True),
        sa.Column('client_state_digest', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.String(length=30), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_notification_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('integration_id'),
    )
    with op.batch_alter_table('live_update_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_live_update_subscriptions_subscription_id', ['subscription_id'], unique=False)
    op.create_table(
        'change_notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('object_id', sa.String(length=64), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sync_run_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sync_run_id'], ['sync_runs.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('change_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_change_notifications_pending', ['integration_id', 'processed_at', 'id'], unique=False)
        batch_op.create_index('uq_change_notifications_waiting', ['integration_id', 'kind', 'object_id'], unique=True,
                              postgresql_where=sa.text('processed_at IS NULL'), sqlite_where=sa.text('processed_at IS NULL'))


def downgrade():
    with op.batch_alter_table('change_notifications', schema=None) as batch_op:
        batch_op.drop_index('uq_change_notifications_waiting', postgresql_where=sa.text('processed_at IS NULL'),
                            sqlite_where=sa.text('processed_at IS NULL'))
        batch_op.drop_index('ix_change_notifications_pending')
    op.drop_table('change_notifications')
    with op.batch_alter_table('live_update_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_live_update_subscriptions_subscription_id')
    op.drop_table('live_update_subscriptions')
