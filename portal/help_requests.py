"""Tickets from people who cannot sign in: the public "Can't sign in? Ask IT" form.

Whatever the email, the person gets a ticket number, the same words and the same work in the request (the workflows
of a matched requester are planned afterwards by the action job, so the answer's timing tells nothing either). The
ticket is marked unverified, and its actions wait for an admin's approval, so no account action runs on the say-so
of someone who was not signed in.
"""
import sqlalchemy as sa

from portal import signals
from portal.database import db
from portal.exceptions import ValidationError
from portal.models import Requester, ServiceCategory, Ticket, TicketEvent
from portal.workflows import engine

HELP_SERVICE = "Account locked out"
PLANNED = "actions_planned"  # the timeline marker that this unverified ticket's workflows were planned
MAX_MESSAGE = 2000


def raise_help_request(email: str, message: str, ip_address: str | None) -> Ticket:
    """Raise an unverified ticket for whoever owns `email` (or nobody, silently); commits."""
    email, message = (email or "").strip().lower(), (message or "").strip()
    if not 3 <= len(email) <= 254 or "@" not in email:
        raise ValidationError("Enter your work email address.", detail={"errors": {"email": "Enter your work email."}})
    if not 1 <= len(message) <= MAX_MESSAGE:
        raise ValidationError(f"Say what happens when you try to sign in (up to {MAX_MESSAGE} characters).",
                              detail={"errors": {"message": "Say what happens."}})
    person = db.session.scalars(sa.select(Requester).where(sa.or_(
        sa.func.lower(Requester.email) == email, sa.func.lower(Requester.user_principal_name) == email))
        .order_by(Requester.status != "active", Requester.id)).first()
    service = db.session.scalar(sa.select(ServiceCategory).where(ServiceCategory.name == HELP_SERVICE,
                                                                 ServiceCategory.is_active.is_(True)))
    ticket = Ticket(requester_id=person.id if person else None, unverified=True, contact_email=email,
                    category_id=service.id if service else None, subject="Can't sign in", description=message)
    db.session.add(ticket)
    db.session.flush()
    db.session.add(TicketEvent(ticket_id=ticket.id, kind="created", actor_type="anonymous", actor_label=email,
                               public_message="Raised from the \"Can't sign in?\" form by someone who was not signed "
                                              "in; IT checks who asked before anything is done.",
                               detail={"ip_address": ip_address, "matched_requester": bool(person)}))
    signals.ticket_created.send("help_requests", actor=signals.ANONYMOUS,
                                target=signals.Target("ticket", str(ticket.id), f"#{ticket.id} Can't sign in"),
                                detail={"unverified": True, "matched_requester": bool(person)})
    db.session.commit()
    return ticket


def plan_waiting() -> int:
    """The action job's step: plan the workflows of unverified tickets that name a requester (behind an admin's
    approval), once each; returns how many were planned."""
    planned = sa.select(TicketEvent.ticket_id).where(TicketEvent.kind == PLANNED)
    waiting = db.session.scalars(sa.select(Ticket).where(
        Ticket.unverified.is_(True), Ticket.requester_id.is_not(None), Ticket.category_id.is_not(None),
        Ticket.id.not_in(planned)).order_by(Ticket.id).limit(100)).all()
    for ticket in waiting:
        engine.plan_actions(ticket)
        db.session.add(TicketEvent(ticket_id=ticket.id, kind=PLANNED, actor_type="system", actor_label="Workflow",
                                   public_message="Workflows planned; any action waits for an IT admin's approval.",
                                   visible_to_requester=False))
        db.session.commit()
    return len(waiting)
