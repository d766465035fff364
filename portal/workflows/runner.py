"""Runs queued ActionRuns durably: claim safely across processes, execute once, retry what can be retried.

Claiming: PostgreSQL takes rows with FOR UPDATE SKIP LOCKED; SQLite, which has one writer anyway, takes
the "action-runner" lease. A claim older than CLAIM_TIMEOUT belongs to a process that died: its outcome is
unknown, so before retrying, the runner asks Graph whether the account already shows the action.
"""
import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal import integrations, leases, mail, signals, ticket_progress
from portal.database import db
from portal.entra import clients
from portal.exceptions import (
    ApprovalRequired,
    EntraError,
    GraphError,
    MailError,
    NotFound,
    PermissionMissing,
    PrivilegedTarget,
)
from portal.models import ActionRun, Integration, Requester, Ticket
from portal.workflows import approvals, targeting
from portal.workflows.actions import Outcome, WorkflowAction, action_type
from portal.workflows.engine import run_target, timeline

log = logging.getLogger("portal.actions")
MAX_ATTEMPTS = 5
CLAIM_TIMEOUT = timedelta(minutes=5)
LEASE = "action-runner"


def action_clock() -> datetime:
    """The runner's one clock, so tests can move time past backoffs and claim timeouts."""
    return datetime.now(UTC)


def claim(worker: str, limit: int = 10) -> list[int]:
    """Take pending runs that are due (and reclaim stale ones); commits the claim."""
    moment = action_clock()
    stale = sa.and_(ActionRun.status == "running", ActionRun.claimed_at < moment - CLAIM_TIMEOUT)
    due = sa.and_(ActionRun.status == "pending", ActionRun.next_attempt_at <= moment)
    paused = sa.select(Integration.id).where(Integration.paused_at.is_not(None))
    query = (sa.select(ActionRun).where(sa.or_(due, stale), ActionRun.integration_id.not_in(paused))
             .order_by(ActionRun.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    elif not leases.acquire(LEASE, worker, timedelta(minutes=2), now=moment):
        return []
    runs = db.session.scalars(query).all()
    for run in runs:
        if run.status == "running":
            run.detail = dict(run.detail or {}, uncertain_since=run.claimed_at.isoformat())
        run.status, run.claimed_by, run.claimed_at, run.attempts = "running", worker, moment, run.attempts + 1
        timeline(run, "action_running", f"Working on {action_type(run.action).public}…", {"attempt": run.attempts}, False)
    ids = [r.id for r in runs]
    db.session.commit()
    return ids


def run_pending(config, worker: str | None = None) -> int:
    """Claim and execute due runs until none is left; returns how many finished (either way)."""
    worker = worker or leases.holder_name("runner")
    done = 0
    try:
        while True:
            ids = claim(worker)
            if not ids:
                return done
            for run_id in ids:
                execute_run(run_id, config, worker)
                done += 1
    finally:
        if db.session.get_bind().dialect.name != "postgresql":
            leases.release(LEASE, worker)


def execute_run(run_id: int, config, worker: str) -> None:
    """Execute one claimed run and record its outcome on the run, the ticket and the audit log."""
    run = db.session.get(ActionRun, run_id)
    if run is None or run.status != "running" or run.claimed_by != worker:
        return
    requester = db.session.get(Requester, run.target_requester_id)
    integration = db.session.get(Integration, run.integration_id)
    settings = clients.MicrosoftSettings.from_config(config)
    action = action_type(run.action)
    if _refused_now(run):
        return
    try:
        graph = clients.graph_for(integration, settings)
        uncertain = (run.detail or {}).get("uncertain_since")
        if uncertain and _settle_uncertain(run, action, graph, requester, datetime.fromisoformat(uncertain)):
            return
        if action.sends_email and _mail_cannot_go(run, action, requester, config):
            return
        outcome = action.execute(graph, requester, approved=bool((run.detail or {}).get("approved_by")))
    except ApprovalRequired as exc:
        return _await_approval(run, exc)
    except PrivilegedTarget as exc:  # retrying cannot help: fail at once, saying who must act
        return _finish(run, "failed", exc.message, {"error": exc.message, "code": exc.code, "roles": exc.roles},
                       error_code=exc.code, public=exc.public)
    except (GraphError, EntraError) as exc:
        return _failed_attempt(run, exc)
    _succeeded(run, action, outcome, requester, config)


def _refused_now(run: ActionRun) -> bool:
    """Checked again at execution: every approval still approved, and the target still allowed (the manager chain
    may have changed since the ticket was raised)."""
    ticket = db.session.get(Ticket, run.ticket_id)
    problem = None if approvals.all_clear(ticket.id) else "The ticket has an approval that is not approved."
    problem = problem or targeting.recheck(ticket)
    if problem:
        _finish(run, "failed", f"Nothing was changed in Microsoft Entra ID: {problem}", {"error": problem},
                error_code="target_not_allowed", public=f"{action_type(run.action).label} was not run: {problem}")
    return bool(problem)


def _settle_uncertain(run: ActionRun, action: WorkflowAction, graph, requester, since) -> bool:
    """A previous attempt may have run: finish without repeating it when Graph shows the result."""
    if not action.already_done(graph, requester, since):
        return False
    settled = action.on_uncertain_done()
    _finish(run, settled.status, settled.error, settled.detail, error_code=settled.error_code, public=settled.public)
    return True


def _succeeded(run: ActionRun, action: WorkflowAction, outcome: Outcome, requester: Requester, config) -> None:
    run.graph_request_id = outcome.request_id
    detail = dict(outcome.detail)
    if action.sends_email:
        run.mail_status, mail_error = _send_mail(action, outcome, requester, run, config)
        outcome.temporary_password = None  # never kept beyond this point
        if mail_error:
            detail["mail_error"] = mail_error
    public = outcome.public if run.mail_status != "failed" else action.mail_failed_public
    _finish(run, "succeeded", None, detail, public=public)


def _mail_cannot_go(run: ActionRun, action: WorkflowAction, requester: Requester, config) -> bool:
    """Before Graph is touched: a mail that could not be sent (no valid address, a refused template) fails the run
    here, so nobody is left with a password that nobody knows."""
    try:
        mail.single_recipient(requester.email or requester.user_principal_name)
        _render_mail(action, requester, run, config, {mail.SLOT: "Preflight-Check-1"})
    except MailError as exc:
        _finish(run, "failed", f"Nothing was changed in Microsoft Entra ID: {exc.message} Fix it, then retry.",
                {"error": exc.message, "code": exc.code}, error_code=exc.code,
                public=f"{action.label} could not start: your email address cannot receive the result. IT has been told.")
        return True
    return False


def _render_mail(action: WorkflowAction, requester: Requester, run: ActionRun, config, extra: dict):
    from portal import policy

    organisation, portal_url = policy.mail_identity()
    values = {"name": requester.given_name or requester.display_name, "ticket": run.ticket_id,
              "portal_url": portal_url, "organisation": organisation, **extra}
    return mail.render(policy.mail_template(action.mail_template), values)


def _send_mail(action: WorkflowAction, outcome: Outcome, requester: Requester, run: ActionRun,
               config) -> tuple[str, str | None]:
    """Send the action's mail (retried in process; the Graph change is never repeated for it). Any failure here is
    a clear mail failure on the run, never a run stuck in 'running'."""
    try:
        subject, text, html = _render_mail(action, requester, run, config, action.mail_values(outcome))
        mail.send(config, requester.email or requester.user_principal_name, subject, text, html,
                  attempts=config.get("MAIL_ATTEMPTS", 3))
    except MailError as exc:
        return "failed", exc.message
    except Exception as exc:  # the Graph change is done: record the failure, never leave the run open
        log.exception("mail for action run %s failed", run.id)
        return "failed", f"The email could not be sent ({exc.__class__.__name__})."
    return "sent", None


def _await_approval(run: ActionRun, exc: ApprovalRequired) -> None:
    """Park the run until an admin approves it on the ticket; the requester sees why."""
    run.status, run.error_code, run.error_message = "awaiting_approval", exc.code, exc.message
    timeline(run, "action_awaiting_approval", exc.public, {"waiting_for": exc.message})
    signals.action_awaiting_approval.send("workflows", actor=signals.SYSTEM, target=run_target(run), outcome="success",
                                          reason=exc.message, detail={"action": run.action, "ticket": run.ticket_id})
    db.session.get(Ticket, run.ticket_id).updated_at = action_clock()
    db.session.commit()


def approve(ticket_id: int, run_id: int, actor: signals.Principal) -> ActionRun:
    """An admin approves a parked run: it is queued again, carrying who approved it (audited)."""
    run = db.session.get(ActionRun, run_id)
    if run is None or run.ticket_id != ticket_id or run.status != "awaiting_approval":
        raise NotFound("Only an action of this ticket that waits for approval can be approved.")
    run.status, run.next_attempt_at, run.error_code, run.error_message = "pending", action_clock(), None, None
    run.detail = dict(run.detail or {}, approved_by=actor.label)
    timeline(run, "action_approved", f"An IT admin approved {action_type(run.action).public}.", {"by": actor.label})
    signals.action_approved.send("workflows", actor=actor, target=run_target(run),
                                 detail={"action": run.action, "ticket": run.ticket_id})
    db.session.commit()
    return run


def _failed_attempt(run: ActionRun, exc: GraphError | EntraError) -> None:
    retryable = exc.retryable
    run.graph_request_id = exc.support_info().get("request_id") or run.graph_request_id
    code = exc.code
    if retryable and run.attempts < MAX_ATTEMPTS:
        run.status, run.error_code, run.error_message = "pending", code, exc.message
        run.next_attempt_at = action_clock() + timedelta(seconds=min(30 * 2 ** (run.attempts - 1), 1800))
        timeline(run, "action_retry", f"Microsoft is busy; trying {action_type(run.action).public} again shortly.",
                 {"error": exc.message, "code": code, "next_attempt_at": run.next_attempt_at.isoformat()}, False)
        db.session.commit()
        return
    if isinstance(exc, EntraError):  # the app's own credentials failed (an expired secret): the integration is failing
        integrations.mark_failing(db.session.get(Integration, run.integration_id), exc.message,
                                  {k: v for k, v in exc.support_info().items() if k != "description"})
    _finish(run, "failed", _plain(exc, code, action_type(run.action)), {"error": exc.message, "code": code,
                                              "graph_request_id": run.graph_request_id}, error_code=code)


def _plain(exc: GraphError | EntraError, code: str, action: WorkflowAction) -> str:
    """What an admin reads on the ticket: for a 403, the permissions this action needs, by name."""
    if isinstance(exc, PermissionMissing):
        return exc.message
    status = exc.support_info().get("http_status")  # Graph's status; a token failure has none
    if status == 403 or code == "Authorization_RequestDenied":
        # Roles were read before the call when the action checks them, so neither they nor an admin target are why.
        checked = "read_roles" in action.features
        admin_note = "" if checked else (
            " If they are granted, the account may hold an Entra admin role, which app-only access may not change.")
        return (f"Microsoft refused {action.label}: the app registration lacks a Microsoft Graph permission it needs "
                f"({'; '.join(action.needs(exclude=('read_roles',)))}). Grant admin consent for it in Entra ID, run "
                f"Verify on the integration, then retry.{admin_note}")
    if status == 404:
        return "The user no longer exists in Microsoft Entra ID."
    return f"Microsoft Graph failed: {exc.message}"


def _finish(run: ActionRun, status: str, error: str | None, detail: dict, *, error_code=None, public=None) -> None:
    run.status, run.finished_at, run.error_message, run.error_code = status, action_clock(), error, error_code
    label = action_type(run.action).label
    friendly = public or (f"{label} could not be completed. IT has been told." if status == "failed" else f"Done: {label}.")
    timeline(run, f"action_{status}", friendly, dict(detail, error=error))
    signals.action_finished.send("workflows", actor=signals.SYSTEM, target=run_target(run),
                                 outcome="success" if status == "succeeded" else "failure", reason=error,
                                 detail={"action": run.action, "ticket": run.ticket_id,
                                         "graph_request_id": run.graph_request_id, "mail": run.mail_status,
                                         "attempts": run.attempts})
    ticket = db.session.get(Ticket, run.ticket_id)
    ticket.updated_at = action_clock()
    ticket_progress.follow_runs(ticket)  # commits the run with the ticket's new status, then tells IT and the requester


def retry(ticket_id: int, run_id: int, actor: signals.Principal) -> ActionRun:
    """An admin retries a failed run of a ticket: it becomes a fresh pending run (the old one stays as history)."""
    run = db.session.get(ActionRun, run_id)
    if run is None or run.ticket_id != ticket_id or run.status != "failed":
        raise NotFound("Only a failed action of this ticket can be retried.")
    fresh = ActionRun(ticket_id=run.ticket_id, workflow_step_id=run.workflow_step_id, integration_id=run.integration_id,
                      target_requester_id=run.target_requester_id, action=run.action,
                      detail={"retry_of": run.id, "requested_by": actor.label})
    db.session.add(fresh)
    db.session.flush()
    timeline(fresh, "action_queued", f"{action_type(run.action).label} is queued again.", {"retry_of": run.id})
    signals.action_requested.send("workflows", actor=actor, target=signals.Target("action_run", str(fresh.id), run.action),
                                  detail={"action": run.action, "ticket": run.ticket_id, "retry_of": run.id})
    ticket_progress.reopen(run.ticket_id, actor)
    db.session.commit()
    return fresh
