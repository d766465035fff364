"""Admin-editable settings and the database leases that keep singleton jobs single."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import db
from portal.models._types import JSONType, UTCDateTime, utcnow


class Setting(db.Model):
    """One policy value an admin changed; absent keys fall back to config defaults."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[dict | list | int | str | bool | None] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(sa.String(255))


class Lease(db.Model):
    """A named, expiring lock row: the scheduler leader and per-integration sync use it across processes."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(120))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
