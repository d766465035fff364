"""Group-scoped sync: the Entra groups an integration syncs, and who was in them at the last listing."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import db
from portal.models._types import JSONType, UTCDateTime, utcnow


class ScopeGroup(db.Model):
    """One chosen group; `nested_ids` are the groups nested in it at the last listing, whose membership changes matter
    too; `missing_since` is set when Microsoft no longer knows the group (deleted), which then brings in nobody."""

    __tablename__ = "sync_scope_groups"
    __table_args__ = (sa.UniqueConstraint("integration_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[str] = mapped_column(sa.String(36))
    display_name: Mapped[str] = mapped_column(sa.String(256), default="")
    nested_ids: Mapped[list] = mapped_column(JSONType, default=list)
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScopeMember(db.Model):
    """A user who was a (nested) member of a chosen group at the last listing: users/delta changes of anyone else are
    ignored, and a member who is no longer listed leaves the scope."""

    __tablename__ = "sync_scope_members"

    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True)
    object_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
