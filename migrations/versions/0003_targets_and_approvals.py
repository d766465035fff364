"""Who a ticket may be about (target rules), approvals that actions wait for, and tickets raised by admins.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('service_categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_rule', sa.String(length=20), server_default='self', nullable=False))
    # A service that already asked for another person now needs an approval for that person: never looser than before.
    op.execute(sa.text("UPDATE service_categories SET target_rule = 'anyone_approval' WHERE asks_for_target"))
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('raised_by_admin_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tickets_raised_by_admin_id_admins'), 'admins',
                                    ['raised_by_admin_id'], ['id'])
    with op.batch_alter_table('workflow_steps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approver', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('approver_admin_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_workflow_steps_approver_admin_id_admins'), 'admins',
                                    ['approver_admin_id'], ['id'])
    op.create_table(
        'approvals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('workflow_step_id', sa.Integer(), nullable=True),
        sa.Column('rule', sa.String(length=30), nullable=False),
        sa.Column('approver_requester_id', sa.Integer(), nullable=True),
        sa.Column('approver_admin_id', sa.Integer(), nullable=True),
        sa.Column('any_admin', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.String(length=255), nullable=True),
        sa.Column('decided_by_key', sa.String(length=40), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('mail_status', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['approver_admin_id'], ['admins.id'], name=op.f('fk_approvals_approver_admin_id_admins')),
        sa.ForeignKeyConstraint(['approver_requester_id'], ['requesters.id'],
                                name=op.f('fk_approvals_approver_requester_id_requesters')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_approvals_ticket_id_tickets')),
        sa.ForeignKeyConstraint(['workflow_step_id'], ['workflow_steps.id'],
                                name=op.f('fk_approvals_workflow_step_id_workflow_steps')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_approver_requester_id'), ['approver_requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approvals_status'), ['status'], unique=False)


def downgrade():
    op.drop_table('approvals')
    with op.batch_alter_table('workflow_steps', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_workflow_steps_approver_admin_id_admins'), type_='foreignkey')
        batch_op.drop_column('approver_admin_id')
        batch_op.drop_column('approver')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_raised_by_admin_id_admins'), type_='foreignkey')
        batch_op.drop_column('raised_by_admin_id')
    with op.batch_alter_table('service_categories', schema=None) as batch_op:
        batch_op.drop_column('target_rule')
