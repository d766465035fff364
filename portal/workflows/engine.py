"""Ticket created -> the matching workflows' App Integration steps become ActionRun rows, in the same transaction."""
import sqlalchemy as sa

from portal import signals
from portal.database import db
from portal.models import ActionRun, Integration, Requester, Ticket, TicketEvent, Workflow
from portal.workflows import approvals
from portal.workflows.actions import ACTION_TYPES, action_type

TARGETS = {"requester": "The ticket's requester", "ticket_subject": "The person named in the ticket"}


def matching_workflows(ticket: Ticket) -> list[Workflow]:
    """Enabled ticket-created workflows for this ticket's category (an empty category list means all)."""
    flows = db.session.scalars(sa.select(Workflow).where(Workflow.is_enabled.is_(True),
                                                         Workflow.trigger == "ticket_created").order_by(Workflow.id))
    return [w for w in flows if not w.category_ids or ticket.category_id in w.category_ids]


def plan_actions(ticket: Ticket) -> list[ActionRun]:
    """Add the ticket's approvals and one ActionRun per App Integration step (not committed: the caller's transaction
    holds them with the ticket); while an approval is undecided the runs are 'blocked', so they cannot start."""
    flows = matching_workflows(ticket)
    gated = bool(approvals.plan(ticket, flows))
    runs = []
    for workflow in flows:
        for step in workflow.steps:
            if step.kind != "app_integration" or not step.integration_id or step.action not in ACTION_TYPES:
                continue
            target_id = ticket.subject_requester_id if step.target == "ticket_subject" else ticket.requester_id
            run = ActionRun(ticket_id=ticket.id, workflow_step_id=step.id, integration_id=step.integration_id,
                            target_requester_id=target_id or ticket.requester_id, action=step.action,
                            detail={"workflow": workflow.name}, status="blocked" if gated else "pending")
            db.session.add(run)
            db.session.flush()
            admit_run(run)
            runs.append(run)
    return runs


def admit_run(run: ActionRun, actor: signals.Principal = signals.SYSTEM) -> None:
    """Queue the run, or fail it at once when the target cannot be acted on through this integration."""
    target = db.session.get(Requester, run.target_requester_id)
    integration = db.session.get(Integration, run.integration_id)
    label = action_type(run.action).label
    problem = None
    if integration is None or integration.status != "verified":
        problem = "The directory integration of this workflow is not verified."
    elif target is None or target.integration_id != integration.id or not target.entra_object_id:
        problem = "The person is not synced from this workflow's directory, so Frontdesk cannot act on their account."
    if problem:
        run.status, run.error_code, run.error_message = "failed", "not_applicable", problem
        timeline(run, "action_failed", f"{label} could not start.", {"error": problem})
    elif run.status == "blocked":
        timeline(run, "action_blocked", f"{label} will run once it is approved.", {"run": run.id})
    else:
        timeline(run, "action_queued", f"{label} is queued.", {"run": run.id})
    signals.action_requested.send("workflows", actor=actor, target=run_target(run),
                                  outcome="failure" if problem else "success", reason=problem,
                                  detail={"action": run.action, "ticket": run.ticket_id, "requester": run.target_requester_id,
                                          "why": (run.detail or {}).get("reason")})


def timeline(run: ActionRun, kind: str, public: str, detail: dict, visible: bool = True) -> None:
    """Add a ticket timeline line for a run: a friendly message for the requester, detail for admins."""
    db.session.add(TicketEvent(ticket_id=run.ticket_id, kind=kind, actor_type="system", actor_label="Workflow",
                               public_message=public, detail=dict(detail, action=run.action, run=run.id),
                               visible_to_requester=visible))


def run_target(run: ActionRun) -> signals.Target:
    """How an action run is named in the audit log."""
    return signals.Target("action_run", str(run.id), f"{run.action} for requester {run.target_requester_id}")
