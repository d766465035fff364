"""Admins who sign in with Microsoft: an admin row may belong to an Entra account (integration and object id, no
password) and keeps why it is an admin; role rules map Entra groups to the portal's admin role.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('admins', schema=None) as batch_op:
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=True)
        batch_op.add_column(sa.Column('integration_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('entra_object_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('role_reason', sa.String(length=600), nullable=True))
        batch_op.add_column(sa.Column('role_source', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('role_checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_admins_integration', 'integrations', ['integration_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('uq_admins_entra', ['integration_id', 'entra_object_id'], unique=True)
    op.create_table(
        'role_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('integration_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.String(length=36), nullable=False),
        sa.Column('group_name', sa.String(length=256), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('integration_id', 'group_id', name='uq_role_rules_group'),
    )


def downgrade():
    op.drop_table('role_rules')
    with op.batch_alter_table('admins', schema=None) as batch_op:
        batch_op.drop_index('uq_admins_entra')
        batch_op.drop_constraint('fk_admins_integration', type_='foreignkey')
        batch_op.drop_column('role_checked_at')
        batch_op.drop_column('role_source')
        batch_op.drop_column('role_reason')
        batch_op.drop_column('entra_object_id')
        batch_op.drop_column('integration_id')
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=False)
