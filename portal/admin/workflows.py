"""Admin Workflows: a trigger (ticket created, optionally per service) and ordered App Integration steps."""
import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from portal import integrations, tickets
from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor
from portal.database import db
from portal.entra import permissions
from portal.exceptions import NotFound, ValidationError
from portal.models import Workflow
from portal.workflows import admin_service
from portal.workflows.engine import ACTIONS, TARGETS

STEP_ROWS = 3


@bp.route("/workflows")
def workflows():
    """Every workflow with its steps."""
    items = db.session.scalars(sa.select(Workflow).order_by(Workflow.name)).all()
    names = {c.id: c.name for c in tickets.categories(active_only=False)}
    by_id = {i.id: i for i in integrations.all_integrations()}
    return render_template("admin/workflows.html", items=items, names=names, integrations=by_id, actions=ACTIONS)


@bp.route("/workflows/new", methods=["GET", "POST"])
@bp.route("/workflows/<int:workflow_id>", methods=["GET", "POST"])
def workflow_edit(workflow_id=None):
    """Create or edit; each step picks a verified integration and an action, checked against its permissions."""
    item = db.session.get(Workflow, workflow_id) if workflow_id else None
    if workflow_id and item is None:
        raise NotFound("There is no such workflow.")
    errors, form = {}, ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        steps = [{"integration_id": request.form.get(f"step_{i}_integration"), "action": request.form.get(f"step_{i}_action"),
                  "target": request.form.get(f"step_{i}_target")} for i in range(STEP_ROWS)]
        try:
            saved = admin_service.save(item, request.form.get("name", ""), request.form.getlist("categories"),
                                       request.form.get("enabled") == "on", steps, actor=actor())
        except ValidationError as exc:
            errors = exc.detail.get("errors", {})
        else:
            flash(f"Workflow '{saved.name}' saved.", "success")
            return redirect(url_for("admin.workflows"))
    verified = [i for i in integrations.all_integrations() if i.status == "verified"]
    allowed = {i.id: {a: permissions.action_allowed(a, i.granted_permissions)[0] for a in ACTIONS} for i in verified}
    return render_template("admin/workflow_edit.html", item=item, errors=errors, form=form, verified=verified,
                           allowed=allowed, actions=ACTIONS, targets=TARGETS, rows=STEP_ROWS,
                           categories=tickets.categories(active_only=False), posted=request.form), (422 if errors else 200)
