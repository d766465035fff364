"""Local operator accounts that run the admin side of the portal."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from portal.database import db
from portal.models._types import SignInPrincipal, UTCDateTime, utcnow


class Admin(SignInPrincipal, db.Model):
    """An operator who signs in with email and password, separately from Microsoft sign-in."""

    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
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
        """Constant-time comparison through Werkzeug."""
        return check_password_hash(self.password_hash, password)

    @property
    def label(self) -> str:
        """How the admin is named in pages and the audit log."""
        return self.display_name or self.email
