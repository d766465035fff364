"""Workflows for admins: list, editor choices, and saving (refusing actions the integration's permissions miss)."""
import sqlalchemy as sa

from portal import integrations, signals, tickets
from portal.database import db
from portal.exceptions import ValidationError
from portal.models import Integration, Workflow, WorkflowStep
from portal.models._types import MAX_ID
from portal.workflows.actions import ACTION_TYPES
from portal.workflows.engine import TARGETS


def workflow_overview() -> dict:
    """The Workflows page: every workflow by name, category names and integrations by id."""
    return {"items": db.session.scalars(sa.select(Workflow).order_by(Workflow.name)).all(),
            "names": {c.id: c.name for c in tickets.categories(active_only=False)},
            "integrations": {i.id: i for i in integrations.all_integrations()}}


def editor_choices() -> dict:
    """What the editor offers: verified integrations, which actions each one's permissions allow, and categories."""
    verified = [i for i in integrations.all_integrations() if i.status == "verified"]
    allowed = {i.id: {key: not action.missing_permissions(i.granted_permissions) for key, action in ACTION_TYPES.items()}
               for i in verified}
    return {"verified": verified, "allowed": allowed, "categories": tickets.categories(active_only=False)}


def save(workflow: Workflow | None, name: str, category_ids: list, enabled: bool, steps: list[dict],
         *, actor: signals.Principal) -> Workflow:
    """Create or update a workflow with its ordered App Integration steps (all or nothing)."""
    name = (name or "").strip()
    errors = {}
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
    if errors:
        raise ValidationError("The workflow needs attention.", detail={"errors": errors})
    workflow = workflow or Workflow()
    categories = sorted({i for i in (as_id(c) for c in category_ids) if i})
    workflow.name, workflow.category_ids, workflow.is_enabled = name, categories, enabled
    workflow.steps = [WorkflowStep(position=i, kind="app_integration", integration_id=as_id(s["integration_id"]),
                                   action=s["action"], target=s.get("target") or "requester")
                      for i, s in enumerate(clean_steps)]
    db.session.add(workflow)
    db.session.flush()
    signals.workflow_saved.send("workflows", actor=actor, target=signals.Target("workflow", str(workflow.id), name),
                                detail={"steps": [{"integration": s.integration_id, "action": s.action, "target": s.target}
                                                  for s in workflow.steps], "categories": workflow.category_ids,
                                        "enabled": enabled})
    db.session.commit()
    return workflow


def as_id(value) -> int | None:
    """A database id from form input: ASCII digits within the integer range, else None (never an exception)."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def _check_step(step: dict) -> str | None:
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
