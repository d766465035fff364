"""One directory sync run with its progress, counts and first errors."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import db
from portal.models._types import JSONType, UTCDateTime, utcnow


class SyncRun(db.Model):
    """Progress is committed page by page so the admin can watch a long run; a run with trigger 'preview' is a dry
    run that plans a full sync with `proposed` and writes no requester."""

    __tablename__ = "sync_runs"
    # At most one queued or running run per integration, enforced by the database: two processes that both
    # saw "nothing running" cannot both queue one (the second insert fails and is reported as a conflict).
    __table_args__ = (sa.Index("uq_sync_runs_one_active", "integration_id", unique=True,
                               postgresql_where=sa.text("status IN ('queued', 'running')"),
                               sqlite_where=sa.text("status IN ('queued', 'running')")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"), index=True)
    mode: Mapped[str] = mapped_column(sa.String(10))
    trigger: Mapped[str] = mapped_column(sa.String(20), default="manual")
    status: Mapped[str] = mapped_column(sa.String(30), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pages: Mapped[int] = mapped_column(default=0)
    fetched: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    deactivated: Mapped[int] = mapped_column(default=0)
    reactivated: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    retries: Mapped[int] = mapped_column(default=0)
    held_deactivations: Mapped[int] = mapped_column(default=0)
    conflicts: Mapped[int] = mapped_column(default=0, server_default="0")
    excluded: Mapped[int] = mapped_column(default=0, server_default="0")  # guests the guest policy leaves out
    already_removed: Mapped[int] = mapped_column(default=0, server_default="0")  # @removed of someone already gone
    proposed: Mapped[dict | None] = mapped_column(JSONType)  # a preview's mapping and guest policy (nothing written)
    expected_total: Mapped[int | None] = mapped_column()
    next_link: Mapped[str | None] = mapped_column(sa.Text)
    errors: Mapped[list] = mapped_column(JSONType, default=list)
    message: Mapped[str | None] = mapped_column(sa.Text)


class SyncConflict(db.Model):
    """Something a sync found that an admin should know: a mail address several active people share (open until it
    is unique again), or a userPrincipalName that changed for a known object id (what sync did: kept the link)."""

    __tablename__ = "sync_conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sync_runs.id"))
    kind: Mapped[str] = mapped_column(sa.String(30))
    key: Mapped[str] = mapped_column(sa.String(1024))
    requester_ids: Mapped[list] = mapped_column(JSONType, default=list)
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncChange(db.Model):
    """One person a run changed: created, updated (old and new value of each changed field), deactivated or
    reactivated; the run page lists them and exports them as CSV."""

    __tablename__ = "sync_changes"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("sync_runs.id"), index=True)
    object_id: Mapped[str] = mapped_column(sa.String(36))
    label: Mapped[str] = mapped_column(sa.String(1024), default="")
    kind: Mapped[str] = mapped_column(sa.String(12))
    fields: Mapped[dict] = mapped_column(JSONType, default=dict)
