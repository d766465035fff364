"""Tickets raised by requesters, their service catalogue and their timeline."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import db
from portal.models._types import JSONType, UTCDateTime, utcnow


class ServiceCategory(db.Model):
    """An entry in the admin-edited service catalogue."""

    __tablename__ = "service_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    asks_for_target: Mapped[bool] = mapped_column(default=False)
    # Who a ticket of this service may be about: see portal.workflows.targeting.TARGET_RULES.
    target_rule: Mapped[str] = mapped_column(sa.String(20), default="self", server_default="self")
    is_active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class Ticket(db.Model):
    """A request from a requester; subject_requester is who it is about (a leaver, say), if not the raiser."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None only for an unverified ticket from the public form whose email matched nobody (the form never says so).
    requester_id: Mapped[int | None] = mapped_column(sa.ForeignKey("requesters.id"), index=True)
    unverified: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    subject_requester_id: Mapped[int | None] = mapped_column(sa.ForeignKey("requesters.id"))
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service_categories.id"))
    subject: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default="open", index=True)
    raised_by_admin_id: Mapped[int | None] = mapped_column(sa.ForeignKey("admins.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    events: Mapped[list["TicketEvent"]] = relationship(back_populates="ticket", order_by="TicketEvent.id")


class TicketEvent(db.Model):
    """One line of a ticket's timeline; requesters see public_message, admins also see detail."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("tickets.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(30))
    actor_type: Mapped[str] = mapped_column(sa.String(20), default="system")
    actor_label: Mapped[str | None] = mapped_column(sa.String(255))
    public_message: Mapped[str] = mapped_column(sa.Text, default="")
    detail: Mapped[dict] = mapped_column(JSONType, default=dict)
    visible_to_requester: Mapped[bool] = mapped_column(default=True)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
