"""Workflows for admins: list, editor choices, and saving (refusing actions the integration's permissions miss)."""
import sqlalchemy as sa

from portal import integrations, signals, tickets
from portal.database import db
from portal.exceptions import ValidationError
from portal.models import Admin, Integration, Workflow, WorkflowStep
from portal.models._types import MAX_ID
from portal.workflows.actions import ACTION_TYPES
from portal.workflows.approvals import APPROVERS
from portal.workflows.engine import TARGETS


def workflow_overview() -> dict:
    """The Workflows page: every workflow by name, category names and integrations by id."""
    return {"items": db.session.scalars(sa.select(Workflow).order_by(Workflow.name)).all(),
            "names": {c.id: c.name for c in tickets.categories(active_only=False)},
            "integrations": {i.id: i for i in integrations.all_integrations()},
            "admins": {a.id: a for a in _admins()}}


def _admins() -> list[Admin]:
    return list(db.session.scalars(sa.select(Admin).where(Admin.is_enabled.is_(True)).order_by(Admin.display_name)))


def editor_choices() -> dict:
    """What the editor offers: verified integrations, which actions each one's permissions allow, and categories."""
    verified = [i for i in integrations.all_integrations() if i.status == "verified"]
    allowed = {i.id: {key: not action.missing_permissions(i.granted_permissions) for key, action in ACTION_TYPES.items()}
               for i in verified}
    return {"verified": verified, "allowed": allowed, "categories": tickets.categories(active_only=False),
            "admins": _admins()}


def save(workflow: Workflow | None, name: str, category_ids: list, enabled: bool, steps: list[dict],
         *, actor: signals.Principal, approval: dict | None = None, scope: str | None = None) -> Workflow:
    """Create or update a workflow: an optional Approval step first, then its ordered App Integration steps (all
    or nothing). `scope` is the editor's explicit choice: every ticket, or only the ticked services."""
    name = (name or "").strip()
    errors = {}
    category_ids, problem = _scoped(scope, category_ids)
    if problem:
        errors["categories"] = problem
    if not 1 <= len(name) <= 120:
        errors["name"] = "Give the workflow a name of 1 to 120 characters."
    clean_steps = []
    for index, step in enumerate(steps):
        if not step.get("integration_id") and not step.get("action"):
            continue
        problem = _check_step(step)
        if problem:
            errors[f"step_{index}"] = problem
        else:
            clean_steps.append(step)
    if not clean_steps and "name" not in errors and not errors:
        errors["step_0"] = "Add at least one App Integration step."
    gate, problem = _approval_step(approval or {})
    if problem:
        errors["approval"] = problem
    if errors:
        raise ValidationError("The workflow needs attention.", detail={"errors": errors})
    workflow = workflow or Workflow()
    categories = sorted({i for i in (as_id(c) for c in category_ids) if i})
    workflow.name, workflow.category_ids, workflow.is_enabled = name, categories, enabled
    workflow.steps = gate + [WorkflowStep(position=i, kind="app_integration", integration_id=as_id(s["integration_id"]),
                                          action=s["action"], target=s.get("target") or "requester")
                             for i, s in enumerate(clean_steps, start=len(gate))]
    db.session.add(workflow)
    db.session.flush()
    signals.workflow_saved.send("workflows", actor=actor, target=signals.Target("workflow", str(workflow.id), name),
                                detail={"steps": [{"kind": s.kind, "integration": s.integration_id, "action": s.action,
                                                   "target": s.target, "approver": s.approver} for s in workflow.steps],
                                        "categories": workflow.category_ids,
                                        "enabled": enabled})
    db.session.commit()
    return workflow


def _scoped(scope: str | None, category_ids: list) -> tuple[list, str | None]:
    """In the editor (`scope` given, '' when no choice was made), running for every ticket must be chosen, never
    implied by ticking nothing; other callers (None) keep 'no services means every ticket'."""
    if scope is None or scope == "all":
        return ([] if scope == "all" else category_ids), None
    if scope not in ("", "some"):
        return category_ids, "Choose when the workflow runs."
    if not category_ids:
        return category_ids, ("Tick at least one service, or choose Every ticket." if scope == "some" else
                              "Choose when the workflow runs: for every ticket, or only for the services you tick.")
    return category_ids, None


def _approval_step(approval: dict) -> tuple[list[WorkflowStep], str | None]:
    """The optional Approval step (always placed first, so no action can run before it), or what is wrong."""
    approver = approval.get("approver") or ""
    if not approver:
        return [], None
    if approver not in APPROVERS:
        return [], "Choose who approves, or no approval step."
    admin_id = as_id(approval.get("admin_id")) if approver == "named_admin" else None
    admin = db.session.get(Admin, admin_id) if admin_id else None
    if approver == "named_admin" and (admin is None or not admin.is_enabled):
        return [], "Choose the admin who approves."
    return [WorkflowStep(position=0, kind="approval", approver=approver, approver_admin_id=admin_id)], None


def as_id(value) -> int | None:
    """A database id from form input: ASCII digits within the integer range, else None (never an exception)."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def _check_step(step: dict) -> str | None:
    if "approval" in (step.get("kind"), step.get("action")):  # the gate is only ever the first step, never in between
        return "An approval cannot come between actions: choose the approver under 'Approval before any action'."
    integration_id = as_id(step.get("integration_id"))
    integration = db.session.get(Integration, integration_id) if integration_id else None
    if integration is None or integration.status != "verified":
        return "Choose an installed, verified Entra ID integration."
    action = ACTION_TYPES.get(step.get("action"))
    if action is None:
        return "Choose one of the actions."
    if (step.get("target") or "requester") not in TARGETS:
        return "Choose who the action applies to."
    missing = action.missing_permissions(integration.granted_permissions)
    if missing:
        return (f"{integration.name} lacks the Microsoft Graph permissions for {action.label} "
                f"({', '.join(missing)} is blocked). Grant them and run Verify, then save again.")
    return None
