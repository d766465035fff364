"""A ticket's status follows its workflow action runs, so IT sees failures and requesters see the end.

The rule, applied whenever a run finishes (and to retries):
- a failed run (one not superseded by a retry) makes the ticket "needs_attention" at once: IT must act;
- while any run is still pending, running, blocked or awaiting approval, the status stays as it is;
- when every run succeeded, the ticket is "resolved";
- when every run is finished, none failed and at least one was cancelled (a rejected or expired approval), the
  ticket is "closed": the request was refused, nothing is left for IT to do, and it is not "resolved".
A ticket without runs is never touched here. Admins may still set any status by hand. The requester is emailed
every change except the automatic return to "in_progress" on a retry, whose outcome follows within moments.
"""
import sqlalchemy as sa

from portal import signals, ticket_notices
from portal.database import db
from portal.models import ActionRun, Ticket, TicketEvent

ACTIVE = ("pending", "running", "blocked", "awaiting_approval")
LABELS = {"open": "Open", "in_progress": "In progress", "needs_attention": "Needs attention", "resolved": "Resolved",
          "closed": "Closed"}


def label(status: str) -> str:
    """The words people read for a status."""
    return LABELS.get(status, status.replace("_", " ").capitalize())


def current_runs(ticket_id: int) -> list[ActionRun]:
    """The ticket's runs that still count: a failed run that was retried is history, its retry counts instead."""
    runs = db.session.scalars(sa.select(ActionRun).where(ActionRun.ticket_id == ticket_id).order_by(ActionRun.id)).all()
    retried = {(r.detail or {}).get("retry_of") for r in runs}
    return [r for r in runs if r.id not in retried]


def derived_status(run_statuses: list[str]) -> str | None:
    """The status the runs call for, or None when they call for no change (see the module docstring)."""
    if not run_statuses:
        return None
    if "failed" in run_statuses:
        return "needs_attention"
    if any(s in ACTIVE for s in run_statuses):
        return None
    return "resolved" if all(s == "succeeded" for s in run_statuses) else "closed"


def run_progress(run_statuses: set[str]) -> str | None:
    """What a ticket's current runs are doing, for lists: a failed one first, then a wait for approval, then work."""
    if "failed" in run_statuses:
        return "failed"
    if run_statuses & {"blocked", "awaiting_approval"}:
        return "waiting"
    return "working" if run_statuses & {"pending", "running"} else None


def progress_of(ticket_ids: list[int]) -> dict[int, str]:
    """Ticket id -> run_progress of its current runs (a retried failure is history), for a page of tickets in one
    query, so a list shows a failed or waiting ticket as such even while its status still reads "Open"."""
    if not ticket_ids:
        return {}
    runs = db.session.execute(sa.select(ActionRun.ticket_id, ActionRun.id, ActionRun.status, ActionRun.detail)
                              .where(ActionRun.ticket_id.in_(ticket_ids))).all()
    retried = {(run.detail or {}).get("retry_of") for run in runs}
    statuses: dict[int, set[str]] = {}
    for run in runs:
        if run.id not in retried:
            statuses.setdefault(run.ticket_id, set()).add(run.status)
    return {tid: progress for tid, found in statuses.items() if (progress := run_progress(found))}


def is_live(ticket_id: int) -> bool:
    """Whether a run of the ticket is still queued, running or waiting, so its page keeps polling."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(ActionRun).where(
        ActionRun.ticket_id == ticket_id, ActionRun.status.in_(ACTIVE))) > 0


def follow_runs(ticket: Ticket) -> None:
    """After a run finished: move the ticket to the status its runs call for, commit, then tell IT and the requester
    (mail failures are logged and noted for admins, never raised)."""
    runs = current_runs(ticket.id)
    wanted = derived_status([r.status for r in runs])
    changed = wanted is not None and _change(ticket, wanted, signals.SYSTEM, why="workflow")
    db.session.commit()
    if not changed:
        return
    if wanted == "needs_attention":
        ticket_notices.tell_it(ticket, next(r for r in runs if r.status == "failed"))
    ticket_notices.tell_requester_status(ticket, label(wanted))
    db.session.commit()


def reopen(ticket_id: int, actor: signals.Principal) -> None:
    """A failed run was queued again: the ticket is being worked on ("in_progress"); not committed, not mailed."""
    _change(db.session.get(Ticket, ticket_id), "in_progress", actor, why="retry")


def set_by_hand(ticket: Ticket, status: str, actor: signals.Principal) -> None:
    """An admin's status (checked by the caller), on the timeline and in the audit log; the requester is emailed."""
    changed = _change(ticket, status, actor, why="admin")
    db.session.commit()
    if changed:
        ticket_notices.tell_requester_status(ticket, label(status))
        db.session.commit()


def _change(ticket: Ticket, status: str, actor: signals.Principal, why: str) -> bool:
    """Set the status with a timeline line and a ticket.status_changed audit event; False if it already was."""
    if ticket.status == status:
        return False
    old, ticket.status = ticket.status, status
    db.session.add(TicketEvent(ticket_id=ticket.id, kind="status", actor_type=actor.type, actor_label=actor.label,
                               public_message=f"Status changed to {label(status).lower()}."))
    signals.ticket_status_changed.send("tickets", actor=actor, target=signals.Target("ticket", str(ticket.id), f"#{ticket.id}"),
                                       detail={"old": old, "new": status, "why": why})
    return True
