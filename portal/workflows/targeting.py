"""Who a ticket may be about: each service's target rule, checked when the ticket is raised and again before an
action runs, because the manager chain may have changed in between."""
from portal.database import db
from portal.exceptions import TargetNotAllowed
from portal.models import Requester, ServiceCategory, Ticket

TARGET_RULES = {
    "self": "Only the person raising it",
    "reports": "The person raising it, or someone who reports to them (directly or further down)",
    "anyone_approval": "Anyone in the directory; for someone else, their manager or an IT admin approves first",
}
MAX_CHAIN = 50  # deeper than any real org chart; also stops a cycle in synced manager data


def reports_to(person: Requester, manager_id: int) -> bool:
    """True when manager_id is on person's synced manager chain (direct or indirect)."""
    seen, current = set(), person.manager_id
    while current is not None and current not in seen and len(seen) < MAX_CHAIN:
        if current == manager_id:
            return True
        seen.add(current)
        current = db.session.scalar(db.select(Requester.manager_id).where(Requester.id == current))
    return False


def check_target_rule(rule: str, raiser: Requester, target: Requester | None) -> None:
    """Raise TargetNotAllowed, with what is allowed instead, when the raiser may not name this person."""
    if target is None or target.id == raiser.id:
        return
    if rule == "self":
        raise TargetNotAllowed("This service is only for your own account. Leave 'Person this is about' empty, or "
                               "choose a service for requests about someone else.")
    if rule == "reports" and not reports_to(target, raiser.id):
        raise TargetNotAllowed(f"{target.label} does not report to you in the directory. This service is for you "
                               "and the people who report to you.")
    if rule not in TARGET_RULES:
        raise TargetNotAllowed("This service does not allow requests about someone else.")


def recheck(ticket: Ticket) -> str | None:
    """Before an action runs: the reason the ticket's target is no longer allowed, or None."""
    if ticket.raised_by_admin_id or not ticket.subject_requester_id:
        return None
    category = db.session.get(ServiceCategory, ticket.category_id) if ticket.category_id else None
    try:
        check_target_rule(category.target_rule if category else "self", db.session.get(Requester, ticket.requester_id),
              db.session.get(Requester, ticket.subject_requester_id))
    except TargetNotAllowed as exc:
        return exc.message
    return None
