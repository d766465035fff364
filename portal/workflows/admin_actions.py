"""An admin acts on one person's account from their page: a reason is required, and the action runs through the
same durable runner, timeline and audit entries as workflow actions (on a ticket raised by IT about the person)."""
from portal import signals
from portal.database import db
from portal.exceptions import ValidationError
from portal.models import ActionRun, Admin, Requester, Ticket, TicketEvent
from portal.workflows.actions import ACTION_TYPES
from portal.workflows.engine import admit_run

MIN_REASON, MAX_REASON = 5, 500


def act_on_account(admin: Admin, person: Requester, action_key: str, reason: str) -> Ticket:
    """Queue the action for the person; the acting admin's decision counts as the approval it may need."""
    action = ACTION_TYPES.get(action_key)
    reason = (reason or "").strip()
    if action is None:
        raise ValidationError("Choose one of the account actions.", detail={"errors": {"action": "Choose an action."}})
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise ValidationError(f"Give a reason of {MIN_REASON} to {MAX_REASON} characters; it goes into the audit log.",
                              detail={"errors": {"reason": "Give a reason."}})
    if not person.integration_id or not person.entra_object_id:
        raise ValidationError(f"{person.label} is not synced from Microsoft Entra ID, so there is no account to act on.")
    ticket = Ticket(requester_id=person.id, raised_by_admin_id=admin.id, subject=f"{action.label} (by IT)",
                    description="", status="in_progress")
    db.session.add(ticket)
    db.session.flush()
    db.session.add(TicketEvent(ticket_id=ticket.id, kind="created", actor_type="admin", actor_label=admin.label,
                               public_message=f"IT started: {action.label}.", detail={"reason": reason}))
    run = ActionRun(ticket_id=ticket.id, integration_id=person.integration_id, target_requester_id=person.id,
                    action=action.key, status="pending",
                    detail={"requested_by": admin.label, "approved_by": admin.label, "reason": reason})
    db.session.add(run)
    db.session.flush()
    admit_run(run, actor=signals.Principal.of(admin))
    db.session.commit()
    return ticket
