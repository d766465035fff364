"""Comments on a ticket, both ways: the requester and IT write to each other; IT may add internal notes."""
from portal import signals, ticket_notices
from portal.database import db
from portal.exceptions import ValidationError
from portal.models import Ticket, TicketEvent

MAX_LENGTH = 5000


def add(ticket: Ticket, author, body: str, internal: bool = False) -> TicketEvent:
    """Add a comment (an admin's internal note is hidden from the requester), audited without its text; the
    requester is emailed when IT writes to them."""
    body = (body or "").strip()
    if not body or len(body) > MAX_LENGTH:
        raise ValidationError(f"Write a comment of 1 to {MAX_LENGTH} characters.",
                              detail={"errors": {"body": f"Write 1 to {MAX_LENGTH} characters."}})
    actor = signals.Principal.of(author)
    internal = internal and actor.type == "admin"
    event = TicketEvent(ticket_id=ticket.id, kind="note" if internal else "comment", actor_type=actor.type,
                        actor_label=actor.label, public_message=body, visible_to_requester=not internal)
    db.session.add(event)
    signals.ticket_commented.send("tickets", actor=actor, target=signals.Target("ticket", str(ticket.id), f"#{ticket.id}"),
                                  detail={"internal": internal, "length": len(body)})
    db.session.commit()
    if actor.type == "admin" and not internal:
        ticket_notices.tell_requester_comment(ticket)
        db.session.commit()
    return event
