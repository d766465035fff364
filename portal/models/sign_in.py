"""Sign-in attempts as Microsoft Entra ID recorded them (imported from Graph's sign-in logs)."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.database import db
from portal.models._types import UTCDateTime


class SignInEvent(db.Model):
    """One Entra sign-in log entry for this integration's app; (integration, Microsoft's id) makes imports idempotent.

    Free-form values (what a person typed as their name, Microsoft's reason text) are Text, so nothing is cut.
    """

    __tablename__ = "sign_in_events"
    __table_args__ = (
        sa.UniqueConstraint("integration_id", "microsoft_id"),
        sa.Index("ix_sign_in_events_requester_created", "requester_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    microsoft_id: Mapped[str] = mapped_column(sa.String(64))
    requester_id: Mapped[int | None] = mapped_column(sa.ForeignKey("requesters.id"))
    user_object_id: Mapped[str | None] = mapped_column(sa.String(36))
    user_principal_name: Mapped[str | None] = mapped_column(sa.Text)
    user_display_name: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    error_code: Mapped[int] = mapped_column(default=0)
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    browser: Mapped[str | None] = mapped_column(sa.Text)
    operating_system: Mapped[str | None] = mapped_column(sa.Text)
    city: Mapped[str | None] = mapped_column(sa.Text)
    country: Mapped[str | None] = mapped_column(sa.String(8))
    client_app: Mapped[str | None] = mapped_column(sa.Text)
    interactive: Mapped[bool | None] = mapped_column()
    correlation_id: Mapped[str | None] = mapped_column(sa.String(64))
