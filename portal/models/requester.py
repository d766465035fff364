"""People who use the self-service side, usually synced from Entra ID."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import db
from portal.models._types import SignInPrincipal, UTCDateTime, utcnow

REQUESTER_STATUSES = ("active", "disabled", "deleted")
TRIGRAM_COLUMNS = ("display_name", "email", "user_principal_name")  # what the admin's requester search looks in
TEXT_MAX = 1024  # Graph's longest mappable user attribute (field_mapping.GRAPH_TEXT_MAX): synced values are never cut


class Requester(SignInPrincipal, db.Model):
    """A requester; (integration, Entra object id) is the sync key, and rows are never deleted."""

    __tablename__ = "requesters"
    __table_args__ = (
        sa.UniqueConstraint("integration_id", "entra_object_id"),
        sa.CheckConstraint("status IN ('active', 'disabled', 'deleted')", name="status"),
        # The admin list is ordered by name; email and UPN ride along so a search reads only this index on SQLite.
        sa.Index("ix_requesters_name_order", "display_name", "id", "email", "user_principal_name"),
        # Substring search on PostgreSQL (pg_trgm); migration 0006 creates these only where the extension exists.
        *(sa.Index(f"ix_requesters_{column}_trgm", sa.func.lower(sa.column(column)).label(f"{column}_lower"),
                   postgresql_using="gin", postgresql_ops={f"{column}_lower": "gin_trgm_ops"}).ddl_if(dialect="postgresql")
          for column in TRIGRAM_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("integrations.id"), index=True)
    entra_object_id: Mapped[str | None] = mapped_column(sa.String(36))
    user_principal_name: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    email: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(TEXT_MAX), default="")
    given_name: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    surname: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    business_phone: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    mobile_phone: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    employee_id: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    job_title: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    department: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    company_name: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    office_location: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    employee_type: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    manager_object_id: Mapped[str | None] = mapped_column(sa.String(36))
    manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("requesters.id"))
    street_address: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    city: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    state: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    postal_code: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    country: Mapped[str | None] = mapped_column(sa.String(TEXT_MAX))
    user_type: Mapped[str | None] = mapped_column(sa.String(20))
    account_enabled: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="active", index=True)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lockout_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the current or last lock started
    microsoft_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # Entra's lock, as its logs show
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_hash: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    principal_type = "requester"
    is_admin = False

    def get_id(self) -> str:
        """Prefix ids so one login manager can load admins and requesters without collisions."""
        return f"requester:{self.id}"

    @property
    def label(self) -> str:
        """How the requester is named in pages and the audit log."""
        return self.display_name or self.email or self.user_principal_name or f"Requester {self.id}"
