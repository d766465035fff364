"""A dry run ("Preview changes") is a sync run with trigger 'preview' that writes no requester: it keeps the mapping
and guest policy it previews. Removals of people who were already removed get their own counter.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('already_removed', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('proposed', JSON, nullable=True))


def downgrade():
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_column('proposed')
        batch_op.drop_column('already_removed')
