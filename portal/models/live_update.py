"""Live updates: each integration's Graph subscription, and the durable inbox of change notifications it receives."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import db
from portal.models._types import UTCDateTime, utcnow


class LiveUpdateSubscription(db.Model):
    """One integration's change notification subscription to users, or why there is none (status off, reason)."""

    __tablename__ = "live_update_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id", ondelete="CASCADE"), unique=True)
    subscription_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # SHA-256 of the clientState sent to Graph: a notification proves itself by carrying the value, never stored.
    client_state_digest: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(10), default="off")  # on, off
    reason: Mapped[str | None] = mapped_column(sa.String(30))  # no_public_url, validation_failed, expired, failing, ...
    note: Mapped[str | None] = mapped_column(sa.Text)  # Microsoft's words when it refused
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_notification_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last create or renew, even a failed one


class ChangeNotification(db.Model):
    """One received notification, stored before the 202: a user to look at again, or a lifecycle event."""

    __tablename__ = "change_notifications"
    # One pending row per user and kind: a duplicate, or a second change before the first is looked at, adds nothing
    # (lifecycle rows have no user, so NULLs never collide).
    __table_args__ = (sa.Index("ix_change_notifications_pending", "integration_id", "processed_at", "id"),
                      sa.Index("uq_change_notifications_waiting", "integration_id", "kind", "object_id", unique=True,
                               postgresql_where=sa.text("processed_at IS NULL"),
                               sqlite_where=sa.text("processed_at IS NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id", ondelete="CASCADE"))
    subscription_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(30))  # updated, deleted, reauthorizationRequired, subscriptionRemoved, missed
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sync_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sync_runs.id", ondelete="SET NULL"))
