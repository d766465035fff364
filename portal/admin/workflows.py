"""Admin Workflows: a trigger (ticket created, optionally per service) and ordered App Integration steps."""
from flask import flash, redirect, render_template, request, url_for

from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor
from portal.database import get_or_404
from portal.exceptions import ValidationError
from portal.models import Workflow
from portal.workflows import admin_service, step_rows
from portal.workflows.actions import ACTION_TYPES
from portal.workflows.approvals import APPROVERS
from portal.workflows.engine import TARGETS


@bp.route("/workflows")
def workflows():
    """Every workflow with its steps."""
    return render_template("admin/workflows.html", **admin_service.workflow_overview(), actions=ACTION_TYPES,
                           approvers=APPROVERS)


@bp.route("/workflows/new", methods=["GET", "POST"])
@bp.route("/workflows/<int:workflow_id>", methods=["GET", "POST"])
def workflow_edit(workflow_id=None):
    """Create or edit; each step picks a verified integration and an action, checked against its permissions."""
    item = get_or_404(Workflow, workflow_id, "There is no such workflow.") if workflow_id else None
    errors, form, moved = {}, ActionForm(), {}
    steps = step_rows.rows_from(request.form, [s for s in item.steps if s.kind != "approval"] if item else [])
    rows = step_rows.rearranged(steps, list(request.form)) if request.method == "POST" else None
    if rows is not None:  # Add step, Move up/down or Remove: shown again, nothing saved yet
        steps, moved = rows, step_rows.after(list(request.form), len(steps), rows)
    elif request.method == "POST" and form.validate_on_submit():
        try:
            saved = _save_posted_workflow(item, steps)
        except ValidationError as exc:
            errors = exc.detail.get("errors", {})
        else:
            every = "" if saved.category_ids else " It runs for every ticket, whatever its service."
            flash(f"Workflow '{saved.name}' saved.{every}", "warning" if every else "success")
            return redirect(url_for("admin.workflows"))
    return render_template("admin/workflow_edit.html", item=item, errors=errors, form=form,
                           **admin_service.editor_choices(), actions=ACTION_TYPES, targets=TARGETS, rows=steps,
                           max_steps=step_rows.MAX_STEPS, approvers=APPROVERS, moved=moved,
                           posted=request.form), (422 if errors else 200)


def _save_posted_workflow(item: Workflow | None, steps: list[dict]) -> Workflow:
    """Hand the posted editor to the service (which checks everything, the Approval-first rule included)."""
    gate = {"approver": request.form.get("approval_approver"), "admin_id": request.form.get("approval_admin")}
    return admin_service.save(item, request.form.get("name", ""), request.form.getlist("categories"),
                              request.form.get("enabled") == "on", steps, actor=actor(), approval=gate,
                              scope=request.form.get("scope", ""))  # '' = no choice made in the editor
