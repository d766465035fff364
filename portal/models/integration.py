"""An installed directory integration (Microsoft Entra ID) and its field mapping."""
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db
from portal.models._types import JSONType, UTCDateTime, utcnow


class Integration(db.Model):
    """One Entra ID tenant connection: credentials, cloud, health and the sync cursor."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), default="entra_id")
    name: Mapped[str] = mapped_column(sa.String(120))
    tenant_id: Mapped[str] = mapped_column(sa.String(255))
    directory_tenant_id: Mapped[str | None] = mapped_column(sa.String(36))
    client_id: Mapped[str] = mapped_column(sa.String(36))
    secret_encrypted: Mapped[bytes] = mapped_column(sa.LargeBinary)
    secret_hint: Mapped[str] = mapped_column(sa.String(8), default="")
    secret_expires_on: Mapped[date | None] = mapped_column(sa.Date)
    cloud: Mapped[str] = mapped_column(sa.String(20), default="global")
    status: Mapped[str] = mapped_column(sa.String(20), default="installed")
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    last_error: Mapped[dict | None] = mapped_column(JSONType)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    granted_permissions: Mapped[list] = mapped_column(JSONType, default=list)
    delta_link: Mapped[str | None] = mapped_column(sa.Text)
    mapping_version: Mapped[int] = mapped_column(default=0)
    guest_policy: Mapped[str] = mapped_column(sa.String(20), default="include", server_default="include")
    # Who is synced: "tenant" (everyone) or "groups" (members of ScopeGroup rows, nested members included); in group
    # scope, groups/delta's own link follows membership changes.
    sync_scope: Mapped[str] = mapped_column(sa.String(10), default="tenant", server_default="tenant")
    groups_delta_link: Mapped[str | None] = mapped_column(sa.Text)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sign-in log import: the newest createdDateTime imported, and whether the import can run (ok, no_permission,
    # no_licence, failing) with Microsoft's words when it cannot.
    sign_in_watermark: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sign_in_status: Mapped[str | None] = mapped_column(sa.String(20))
    sign_in_note: Mapped[str | None] = mapped_column(sa.Text)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # syncs and actions wait while set
    sign_in_while_paused: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    mappings: Mapped[list["FieldMapping"]] = relationship(
        back_populates="integration", cascade="all, delete-orphan", order_by="FieldMapping.id"
    )


class FieldMapping(db.Model):
    """Which Graph user attribute fills which requester field, on one of three tabs."""

    __tablename__ = "field_mappings"
    __table_args__ = (sa.UniqueConstraint("integration_id", "portal_field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id", ondelete="CASCADE"), index=True)
    tab: Mapped[str] = mapped_column(sa.String(20))
    portal_field: Mapped[str] = mapped_column(sa.String(60))
    graph_attribute: Mapped[str | None] = mapped_column(sa.String(120))

    integration: Mapped[Integration] = relationship(back_populates="mappings")
