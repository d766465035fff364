"""At most one queued or running sync run per integration (a partial unique index).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

ACTIVE = "status IN ('queued', 'running')"


def upgrade():
    # Older duplicates (only possible before this index) are closed first, so the index can be built.
    op.execute(sa.text(
        "UPDATE sync_runs SET status = 'failed', message = 'Closed: a second run was queued at the same moment.' "
        f"WHERE {ACTIVE} AND id NOT IN (SELECT min(id) FROM sync_runs WHERE {ACTIVE} GROUP BY integration_id)"))
    op.create_index('uq_sync_runs_one_active', 'sync_runs', ['integration_id'], unique=True,
                    postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))


def downgrade():
    op.drop_index('uq_sync_runs_one_active', table_name='sync_runs')
