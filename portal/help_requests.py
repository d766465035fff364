"""Tickets from people who cannot sign in: the public "Can't sign in? Ask IT" form.

Whatever the email, the person gets a ticket number and the same words, so the form never tells whether an account
exists. The ticket is marked unverified; when the email matches a requester, their workflows are planned behind an
admin's approval, so no account action runs on the say-so of someone who was not signed in.
"""
import sqlalchemy as sa

from portal import signals
from portal.database import db
from portal.exceptions import ValidationError
from portal.models import Requester, ServiceCategory, Ticket, TicketEvent
from portal.workflows import engine

HELP_SERVICE = "Account locked out"
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
    if person and service:
        engine.plan_actions(ticket)
    signals.ticket_created.send("help_requests", actor=signals.ANONYMOUS,
                                target=signals.Target("ticket", str(ticket.id), f"#{ticket.id} Can't sign in"),
                                detail={"unverified": True, "matched_requester": bool(person)})
    db.session.commit()
    return ticket
