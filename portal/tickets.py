"""Tickets: the service catalogue, raising a ticket (with its workflow actions in one transaction), status."""
import sqlalchemy as sa

from portal import signals
from portal.database import db
from portal.exceptions import NotFound, ValidationError
from portal.models import Requester, ServiceCategory, Ticket, TicketEvent
from portal.workflows import engine

CATALOGUE = (
    ("Account locked out", "You cannot sign in because your account is locked.", False),
    ("Reset my password", "You forgot your password or think someone else knows it.", False),
    ("Leaver: disable account", "Someone has left: disable their account (managers and HR).", True),
    ("General request", "Anything else IT can help with.", False),
)
STATUSES = ("open", "in_progress", "resolved", "closed")


def seed_catalogue() -> int:
    """Create the default categories that do not exist yet."""
    existing = set(db.session.scalars(sa.select(ServiceCategory.name)))
    added = 0
    for position, (name, description, asks_for_target) in enumerate(CATALOGUE):
        if name not in existing:
            db.session.add(ServiceCategory(name=name, description=description, asks_for_target=asks_for_target,
                                           position=position))
            added += 1
    db.session.commit()
    return added


def categories(active_only: bool = True) -> list[ServiceCategory]:
    query = sa.select(ServiceCategory).order_by(ServiceCategory.position, ServiceCategory.name)
    if active_only:
        query = query.where(ServiceCategory.is_active.is_(True))
    return list(db.session.scalars(query))


def find_person(email: str, integration_id: int | None) -> Requester:
    """The requester a ticket is about, by email or UPN (same directory as the raiser)."""
    needle = (email or "").strip().lower()
    query = sa.select(Requester).where(sa.or_(sa.func.lower(Requester.email) == needle,
                                              sa.func.lower(Requester.user_principal_name) == needle))
    if integration_id:
        query = query.where(Requester.integration_id == integration_id)
    person = db.session.scalars(query).first() if needle else None
    if person is None:
        raise ValidationError("No requester has that email address. Check it, or leave it empty if the ticket is about you.",
                              detail={"errors": {"about": "No requester has that email address."}})
    return person


def create(requester: Requester, category_id: int, subject: str, description: str, about_email: str | None = None) -> Ticket:
    """Raise a ticket; matching workflows' actions are written in the same transaction."""
    category = db.session.get(ServiceCategory, category_id)
    if category is None or not category.is_active:
        raise ValidationError("Choose a service from the list.", detail={"errors": {"category": "Choose a service."}})
    subject_person = find_person(about_email, requester.integration_id) if about_email else None
    ticket = Ticket(requester_id=requester.id, category_id=category.id, subject=subject.strip()[:200],
                    description=description.strip()[:10000],
                    subject_requester_id=subject_person.id if subject_person else None)
    db.session.add(ticket)
    db.session.flush()
    about = f" about {subject_person.label}" if subject_person else ""
    db.session.add(TicketEvent(ticket_id=ticket.id, kind="created", actor_type="requester", actor_label=requester.label,
                               public_message=f"Ticket raised: {category.name}{about}."))
    runs = engine.plan(ticket)
    signals.ticket_created.send("tickets", actor=signals.Principal.of(requester),
                                target=signals.Target("ticket", str(ticket.id), f"#{ticket.id} {category.name}"),
                                detail={"category": category.name, "actions": [r.action for r in runs],
                                        "about": subject_person.id if subject_person else None})
    db.session.commit()
    return ticket


def for_requester(requester: Requester, ticket_id: int) -> Ticket:
    """A ticket the requester raised or that is about them; anything else is 'not found' (no IDOR)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or requester.id not in (ticket.requester_id, ticket.subject_requester_id):
        raise NotFound("There is no such ticket among yours.")
    return ticket


def of_requester(requester: Requester, open_only: bool = False) -> list[Ticket]:
    query = sa.select(Ticket).where(Ticket.requester_id == requester.id).order_by(Ticket.id.desc())
    if open_only:
        query = query.where(Ticket.status.in_(("open", "in_progress")))
    return list(db.session.scalars(query))


def set_status(ticket: Ticket, status: str, actor: signals.Principal) -> None:
    """Change status (admins), on the timeline and in the audit log."""
    if status not in STATUSES:
        raise ValidationError("Unknown status.")
    if status == ticket.status:
        return
    old, ticket.status = ticket.status, status
    db.session.add(TicketEvent(ticket_id=ticket.id, kind="status", actor_type=actor.type, actor_label=actor.label,
                               public_message=f"Status changed to {status.replace('_', ' ')}."))
    signals.ticket_status_changed.send("tickets", actor=actor, target=signals.Target("ticket", str(ticket.id), f"#{ticket.id}"),
                                       detail={"old": old, "new": status})
    db.session.commit()
