"""Local operator accounts that run the admin side of the portal."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from portal.database import db
from portal.models._types import SignInPrincipal, UTCDateTime, utcnow


class Admin(SignInPrincipal, db.Model):
    """An operator: a local break-glass account (email and password) or an Entra account whose role comes from Entra."""

    __tablename__ = "admins"
    __table_args__ = (sa.Index("uq_admins_entra", "integration_id", "entra_object_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))  # None: signs in with Microsoft only
    integration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("integrations.id", ondelete="SET NULL"))
    entra_object_id: Mapped[str | None] = mapped_column(sa.String(36))
    role_reason: Mapped[str | None] = mapped_column(sa.String(600))  # "member of IT-Admins (via Helpdesk-Leads)"
    role_source: Mapped[str | None] = mapped_column(sa.String(36))  # "app_role", or the id of the granting group
    role_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_enabled: Mapped[bool] = mapped_column(default=True)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lockout_count: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    principal_type = "admin"
    is_admin = True

    def get_id(self) -> str:
        """Prefix ids so one login manager can load admins and requesters without collisions."""
        return f"admin:{self.id}"

    def set_password(self, password: str) -> None:
        """Hash with Werkzeug's scrypt default; the clear text is never kept."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Constant-time comparison through Werkzeug; a Microsoft admin has no password to match."""
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def signs_in_with_microsoft(self) -> bool:
        """Microsoft admins take their role from Entra; the others are local, break-glass accounts."""
        return self.entra_object_id is not None

    @property
    def label(self) -> str:
        """How the admin is named in pages and the audit log."""
        return self.display_name or self.email


class RoleRule(db.Model):
    """Members of this Entra group (nested members included) are portal admins."""

    __tablename__ = "role_rules"
    __table_args__ = (sa.UniqueConstraint("integration_id", "group_id", name="uq_role_rules_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id", ondelete="CASCADE"))
    group_id: Mapped[str] = mapped_column(sa.String(36))
    group_name: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(20), default="admin")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
