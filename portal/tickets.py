"""Tickets: the service catalogue, raising a ticket (with its workflow actions in one transaction), status, and
what the ticket pages show."""
import sqlalchemy as sa

from portal import signals, ticket_progress
from portal.database import contains_text, db
from portal.exceptions import NotFound, ValidationError
from portal.models import ActionRun, Admin, Approval, AuditEvent, Requester, ServiceCategory, Ticket, TicketEvent
from portal.workflows import approvals, engine, targeting

CATALOGUE = (  # name, description, target rule (portal.workflows.targeting.TARGET_RULES)
    ("Account locked out", "You cannot sign in because your account is locked.", "self"),
    ("Reset my password", "You forgot your password or think someone else knows it.", "self"),
    ("Leaver: disable account", "Someone has left: disable their account. Their manager or IT approves first.",
     "anyone_approval"),
    ("General request", "Anything else IT can help with.", "self"),
)
# Bootstrap Icons for the catalogue cards. A service's name is its stable key (unique, never renamed): the seeded
# services have their own icon, others get one from a word in their name, else the default.
ICONS = {"Account locked out": "person-lock", "Reset my password": "key", "Leaver: disable account": "person-x",
         "General request": "life-preserver"}
ICON_WORDS = (("password", "key"), ("lock", "person-lock"), ("leaver", "person-x"), ("disable", "person-x"),
              ("access", "door-open"), ("laptop", "laptop"), ("hardware", "pc-display"), ("software", "app"),
              ("mail", "envelope"), ("phone", "phone"), ("printer", "printer"), ("wifi", "wifi"),
              ("joiner", "person-plus"), ("starter", "person-plus"))
DEFAULT_ICON = "life-preserver"
STATUSES = ("open", "in_progress", "needs_attention", "resolved", "closed")
OPEN = ("open", "in_progress", "needs_attention")
ADMIN_PAGE_SIZE = 50
RECENT_EVENTS = 8


def seed_catalogue() -> int:
    """Create the default categories that do not exist yet."""
    existing = set(db.session.scalars(sa.select(ServiceCategory.name)))
    added = 0
    for position, (name, description, rule) in enumerate(CATALOGUE):
        if name not in existing:
            db.session.add(ServiceCategory(name=name, description=description, asks_for_target=rule != "self",
                                           target_rule=rule, position=position))
            added += 1
    db.session.commit()
    return added


def add_service(name: str, description: str, target_rule: str) -> ServiceCategory:
    """Add a service to the end of the catalogue; its name must be new (case-insensitive), its target rule known."""
    name, description = (name or "").strip(), (description or "").strip()
    existing = categories(active_only=False)
    if not name or len(name) > 120 or any(c.name.lower() == name.lower() for c in existing):
        raise ValidationError("Give the service a new, unique name of at most 120 characters.")
    if len(description) > 500:
        raise ValidationError("Keep the description to 500 characters.")
    if target_rule not in targeting.TARGET_RULES:
        raise ValidationError("Choose who a ticket for this service may be about.")
    category = ServiceCategory(name=name, description=description, asks_for_target=target_rule != "self",
                               target_rule=target_rule, position=len(existing))
    db.session.add(category)
    db.session.commit()
    return category


def set_target_rule(category: ServiceCategory, rule: str, actor: signals.Principal) -> None:
    """Change who a ticket for this service may be about, audited with the old and new rule."""
    if rule not in targeting.TARGET_RULES:
        raise ValidationError("Choose who a ticket for this service may be about.")
    old, category.target_rule, category.asks_for_target = category.target_rule, rule, rule != "self"
    signals.setting_changed.send("tickets", actor=actor, target=signals.Target("service", str(category.id), category.name),
                                 detail={"key": "target_rule", "old": old, "new": rule})
    db.session.commit()


def toggle_service(category: ServiceCategory) -> None:
    """Hide a service from requesters, or offer it again (tickets keep their category)."""
    category.is_active = not category.is_active
    db.session.commit()


def categories(active_only: bool = True) -> list[ServiceCategory]:
    """The service catalogue in display order (only what requesters may choose, unless active_only is False)."""
    query = sa.select(ServiceCategory).order_by(ServiceCategory.position, ServiceCategory.name)
    if active_only:
        query = query.where(ServiceCategory.is_active.is_(True))
    return list(db.session.scalars(query))


def service_icons(services: list[ServiceCategory]) -> dict[int, str]:
    """Each service's card icon by id, so a requester recognises the service before reading its name."""
    def icon(name: str) -> str:
        lowered = name.lower()
        return ICONS.get(name) or next((i for word, i in ICON_WORDS if word in lowered), DEFAULT_ICON)
    return {s.id: icon(s.name or "") for s in services}


def find_person(email: str, integration_id: int | None) -> Requester:
    """The active requester a ticket is about: the one whose sign-in name (UPN) is this address, else the one whose
    email it is; an address several people share is refused rather than guessed."""
    needle = (email or "").strip().lower()
    query = sa.select(Requester).where(Requester.status == "active", sa.or_(
        sa.func.lower(Requester.email) == needle, sa.func.lower(Requester.user_principal_name) == needle))
    if integration_id:
        query = query.where(Requester.integration_id == integration_id)
    found = db.session.scalars(query.limit(20)).all() if needle else []
    by_upn = [p for p in found if (p.user_principal_name or "").lower() == needle]
    if len(by_upn) == 1:
        return by_upn[0]
    if len(found) > 1:
        message = "Several people share that address. Use the person's sign-in name (user principal name) instead."
        raise ValidationError(message, detail={"errors": {"about": message}})
    if not found:
        raise ValidationError("No active requester has that email address. Check it, or leave it empty if the ticket "
                              "is about you.", detail={"errors": {"about": "No active requester has that email address."}})
    return found[0]


def create(requester: Requester, category_id: int, subject: str, description: str, about_email: str | None = None) -> Ticket:
    """Raise a ticket; matching workflows' actions are written in the same transaction."""
    category = db.session.get(ServiceCategory, category_id)
    if category is None or not category.is_active:
        raise ValidationError("Choose a service from the list.", detail={"errors": {"category": "Choose one of the services shown."}})
    subject_person = find_person(about_email, requester.integration_id) if about_email else None
    targeting.check_target_rule(category.target_rule, requester, subject_person)
    if subject_person and subject_person.id == requester.id:
        subject_person = None
    ticket = Ticket(requester_id=requester.id, category_id=category.id, subject=subject.strip()[:200],
                    description=description.strip()[:10000],
                    subject_requester_id=subject_person.id if subject_person else None)
    db.session.add(ticket)
    db.session.flush()
    about = f" about {subject_person.label}" if subject_person else ""
    db.session.add(TicketEvent(ticket_id=ticket.id, kind="created", actor_type="requester", actor_label=requester.label,
                               public_message=f"Ticket raised: {category.name}{about}."))
    runs = engine.plan_actions(ticket)
    signals.ticket_created.send("tickets", actor=signals.Principal.of(requester),
                                target=signals.Target("ticket", str(ticket.id), f"#{ticket.id} {category.name}"),
                                detail={"category": category.name, "actions": [r.action for r in runs],
                                        "about": subject_person.id if subject_person else None})
    ticket_progress.follow_runs(ticket)  # commits; an action that could not even start needs IT at once
    return ticket


def for_requester(requester: Requester, ticket_id: int) -> Ticket:
    """A ticket the requester raised or that is about them; anything else is 'not found' (no IDOR)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or requester.id not in (ticket.requester_id, ticket.subject_requester_id):
        raise NotFound("There is no such ticket among yours.")
    return ticket


def of_requester(requester: Requester, open_only: bool = False) -> list[Ticket]:
    """The requester's own tickets, newest first."""
    query = sa.select(Ticket).where(Ticket.requester_id == requester.id).order_by(Ticket.id.desc())
    if open_only:
        query = query.where(Ticket.status.in_(OPEN))
    return list(db.session.scalars(query))


def requester_home(requester: Requester) -> dict:
    """The requester's home page: open tickets, the last five closed ones, and recent visible timeline lines."""
    mine = of_requester(requester)
    recent = db.session.scalars(sa.select(TicketEvent).join(Ticket).where(
        Ticket.requester_id == requester.id, TicketEvent.visible_to_requester.is_(True))
        .order_by(TicketEvent.id.desc()).limit(RECENT_EVENTS)).all()
    return {"open_tickets": [t for t in mine if t.status in OPEN],
            "closed": [t for t in mine if t.status not in OPEN][:5], "recent": recent}


def requester_ticket_page(requester: Requester, ticket_id: int) -> dict:
    """One of the requester's tickets with its service and the friendly side of its timeline."""
    ticket = for_requester(requester, ticket_id)
    category = db.session.get(ServiceCategory, ticket.category_id) if ticket.category_id else None
    return {"ticket": ticket, "category": category, "events": [e for e in ticket.events if e.visible_to_requester],
            "live": ticket_progress.is_live(ticket.id)}


def admin_listing(status: str | None, category_id: int | None, text: str | None, page: int | None) -> dict:
    """All tickets newest first, filtered by status, service and subject text, one page at a time."""
    query = sa.select(Ticket).order_by(Ticket.id.desc())
    text = (text or "").strip()[:100]
    if status in STATUSES:
        query = query.where(Ticket.status == status)
    if category_id:
        query = query.where(Ticket.category_id == category_id)
    if text:
        query = query.where(contains_text(Ticket.subject, text))
    found = db.paginate(query, page=max(page or 1, 1), per_page=ADMIN_PAGE_SIZE, error_out=False)
    people = {r.id: r for r in db.session.scalars(sa.select(Requester).where(
        Requester.id.in_({t.requester_id for t in found.items})))}
    return {"page": found, "people": people, "categories": categories(active_only=False),
            "progress": ticket_progress.progress_of([t.id for t in found.items])}


def admin_detail(ticket: Ticket, viewer=None) -> dict:
    """What the admin ticket page shows besides the ticket: its runs and approvals, their audit events and the people
    involved."""
    runs = db.session.scalars(sa.select(ActionRun).where(ActionRun.ticket_id == ticket.id).order_by(ActionRun.id)).all()
    gates = db.session.scalars(sa.select(Approval).where(Approval.ticket_id == ticket.id).order_by(Approval.id)).all()
    targets = [("ticket", [str(ticket.id)]), ("action_run", [str(r.id) for r in runs]),
               ("approval", [str(a.id) for a in gates])]
    events = db.session.scalars(sa.select(AuditEvent).where(sa.or_(*(
        sa.and_(AuditEvent.target_type == kind, AuditEvent.target_id.in_(ids)) for kind, ids in targets if ids)))
        .order_by(AuditEvent.id)).all()
    return {"runs": runs, "audit_events": events, "live": ticket_progress.is_live(ticket.id),
            "requester": db.session.get(Requester, ticket.requester_id) if ticket.requester_id else None,
            "about": db.session.get(Requester, ticket.subject_requester_id) if ticket.subject_requester_id else None,
            "category": db.session.get(ServiceCategory, ticket.category_id) if ticket.category_id else None,
            "approvals": [(a, approvals.approver_label(a), bool(viewer) and approvals.may_decide(a, viewer))
                          for a in gates],
            "raised_by": db.session.get(Admin, ticket.raised_by_admin_id) if ticket.raised_by_admin_id else None}


def set_status(ticket: Ticket, status: str, actor: signals.Principal) -> None:
    """Change status (admins), on the timeline and in the audit log; the requester is emailed."""
    if status not in STATUSES:
        raise ValidationError("Unknown status.")
    ticket_progress.set_by_hand(ticket, status, actor)
