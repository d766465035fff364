"""A signed-in device: one server-side session of a requester or an admin."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db
from portal.models._types import UTCDateTime, utcnow


class DeviceSession(db.Model):
    """The session id is kept only as a SHA-256 hash, so this table cannot be used to hijack sessions."""

    __tablename__ = "device_sessions"
    # Live sessions are a small share of the table (ended ones are kept for the history): the Sessions page pages
    # them by last activity and the dashboard counts them by device type, each from its own partial index. Ended
    # sessions are indexed apart, for the retention clean-up, so no plan reads "ended_at IS NULL" from that index.
    __table_args__ = (
        sa.Index("ix_device_sessions_ended", "ended_at", postgresql_where=sa.text("ended_at IS NOT NULL"),
                 sqlite_where=sa.text("ended_at IS NOT NULL")),
        sa.Index("ix_device_sessions_live_seen", "last_seen_at", "id", postgresql_where=sa.text("ended_at IS NULL"),
                 sqlite_where=sa.text("ended_at IS NULL")),
        sa.Index("ix_device_sessions_live_type", "device_type", postgresql_where=sa.text("ended_at IS NULL"),
                 sqlite_where=sa.text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sid_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    principal_type: Mapped[str] = mapped_column(sa.String(10))
    requester_id: Mapped[int | None] = mapped_column(sa.ForeignKey("requesters.id"), index=True)
    admin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admins.id"), index=True)
    device_label: Mapped[str] = mapped_column(sa.String(200), default="Unknown device")
    device_type: Mapped[str] = mapped_column(sa.String(20), default="other")
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(sa.String(30))

    requester = relationship("Requester")
    admin = relationship("Admin")
