"""Group-scoped sync: an integration syncs everyone in the tenant or the members of chosen groups (nested members
included); the chosen groups, the users found in them at the last listing, and groups/delta's link.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sync_scope', sa.String(length=10), server_default='tenant', nullable=False))
        batch_op.add_column(sa.Column('groups_delta_link', sa.Text(), nullable=True))
    op.create_table(
        'sync_scope_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.String(length=36), nullable=False),
        sa.Column('display_name', sa.String(length=256), nullable=False),
        sa.Column('nested_ids', JSON, nullable=False),
        sa.Column('missing_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('integration_id', 'group_id'),
    )
    with op.batch_alter_table('sync_scope_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_scope_groups_integration_id'), ['integration_id'], unique=False)
    op.create_table(
        'sync_scope_members',
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('object_id', sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('integration_id', 'object_id'),
    )


def downgrade():
    op.drop_table('sync_scope_members')
    with op.batch_alter_table('sync_scope_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_scope_groups_integration_id'))
    op.drop_table('sync_scope_groups')
    with op.batch_alter_table('integrations', schema=None) as batch_op:
        batch_op.drop_column('groups_delta_link')
        batch_op.drop_column('sync_scope')
