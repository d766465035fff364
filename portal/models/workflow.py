"""Admin-built ticket workflows, their steps, and durable runs of App Integration actions."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db
from portal.models._types import JSONType, UTCDateTime, utcnow


class Workflow(db.Model):
    """Runs its steps when a ticket is created, optionally only for some categories."""

    __tablename__ = "workflows"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    trigger: Mapped[str] = mapped_column(sa.String(30), default="ticket_created")
    category_ids: Mapped[list] = mapped_column(JSONType, default=list)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    steps: Mapped[list["WorkflowStep"]] = relationship(
        back_populates="workflow", cascade="all, delete-orphan", order_by="WorkflowStep.position"
    )


class WorkflowStep(db.Model):
    """An ordered step; kind app_integration acts on the target's Entra account."""

    __tablename__ = "workflow_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(sa.ForeignKey("workflows.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(sa.String(30), default="app_integration")
    integration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("integrations.id"))
    action: Mapped[str | None] = mapped_column(sa.String(40))
    target: Mapped[str] = mapped_column(sa.String(20), default="requester")
    approver: Mapped[str | None] = mapped_column(sa.String(30))  # kind approval: see workflows.approvals.APPROVERS
    approver_admin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admins.id"))

    workflow: Mapped[Workflow] = relationship(back_populates="steps")


class ActionRun(db.Model):
    """One durable execution of an action for a ticket; written in the ticket's own transaction."""

    __tablename__ = "action_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    workflow_step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workflow_steps.id"))
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    target_requester_id: Mapped[int] = mapped_column(sa.ForeignKey("requesters.id"))
    action: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(120))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    graph_request_id: Mapped[str | None] = mapped_column(sa.String(64))
    error_code: Mapped[str | None] = mapped_column(sa.String(80))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    mail_status: Mapped[str | None] = mapped_column(sa.String(20))
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Approval(db.Model):
    """A decision a ticket's actions wait for; runs stay 'blocked' until every approval of the ticket is approved.

    The approver is resolved when the ticket is raised: a requester (a manager), one named admin, and/or any admin.
    """

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    workflow_step_id: Mapped[int | None] = mapped_column(sa.ForeignKey("workflow_steps.id"))
    rule: Mapped[str] = mapped_column(sa.String(30))
    approver_requester_id: Mapped[int | None] = mapped_column(sa.ForeignKey("requesters.id"), index=True)
    approver_admin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admins.id"))
    any_admin: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending", index=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(sa.String(255))
    decided_by_key: Mapped[str | None] = mapped_column(sa.String(40))  # "admin:3": one person approves one step
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    mail_status: Mapped[str | None] = mapped_column(sa.String(20))  # None until the approvers were emailed
