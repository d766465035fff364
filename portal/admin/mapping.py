"""Field mapping on three tabs with a live preview of real users and a dry run of the whole tenant; saving starts a
full sync."""
from flask import flash, redirect, render_template, request, url_for

from portal import integrations
from portal.admin import bp
from portal.admin.forms import ActionForm, mapping_form
from portal.admin.sync import NO_SUCH_RUN
from portal.admin.views_common import actor, kick_sync, ms_settings
from portal.database import get_or_404
from portal.directory import dry_run, field_mapping
from portal.directory.runs import start_run
from portal.entra.credentials import EntraError
from portal.entra.graph import GraphError
from portal.exceptions import Conflict, ValidationError
from portal.models import SyncRun


@bp.route("/integrations/<int:integration_id>/mapping", methods=["GET", "POST"])
def mapping(integration_id):
    """Show the tabs; Preview renders mapped values of 5 users; Preview changes starts a dry run of the whole tenant;
    Save stores the mapping and syncs."""
    item = integrations.integration_or_404(integration_id)
    form = mapping_form(field_mapping.GRAPH_ATTRIBUTES, dict(integrations.mapping_of(item), guest_policy=item.guest_policy))
    preview, preview_error = None, None
    if form.validate_on_submit():
        chosen = {f.name: getattr(form, f.name).data or None for f in field_mapping.PORTAL_FIELDS}
        try:
            if form.preview.data:
                preview = integrations.preview(item, chosen, ms_settings())
            elif form.dry_run.data:
                return _dry_run(item, chosen, form.guest_policy.data)
            else:
                return _save(item, chosen, form.guest_policy.data)
        except field_mapping.MappingInvalid as exc:
            for name, message in exc.errors.items():
                getattr(form, name).errors = [message]
        except (GraphError, EntraError) as exc:
            preview_error = exc.message
        except (Conflict, ValidationError) as exc:
            flash(exc.message, "warning")
    template = "admin/_mapping_preview.html" if request.headers.get("HX-Request") else "admin/mapping.html"
    status = 422 if form.errors else 200
    return render_template(template, integration=item, form=form, fields=field_mapping.PORTAL_FIELDS, tabs=field_mapping.TABS,
                           preview=preview, preview_error=preview_error), status


def _dry_run(item, chosen, guest_policy):
    run = dry_run.start_preview(item, chosen, guest_policy)
    kick_sync()
    flash("Previewing the changes: Frontdesk reads every user and writes nothing.", "info")
    return redirect(url_for("admin.sync_run", run_id=run.id))


@bp.route("/sync/runs/<int:run_id>/save-mapping", methods=["POST"])
def save_previewed_mapping(run_id):
    """Save the mapping and guest policy a finished preview planned with, and sync with them."""
    run, form = get_or_404(SyncRun, run_id, NO_SUCH_RUN), ActionForm()
    item = integrations.integration_or_404(run.integration_id)
    try:
        if not form.validate_on_submit():
            raise Conflict("The form expired. Press Save again.")
        chosen, guest_policy = dry_run.proposal_of(run)
    except Conflict as exc:
        flash(exc.message, "warning")
        return redirect(url_for("admin.sync_run", run_id=run.id))
    return _save(item, chosen, guest_policy)


def _save(item, chosen, guest_policy):
    changes = integrations.save_mapping(item, chosen, actor=actor(), guest_policy=guest_policy)
    try:
        run = start_run(item, "full", "mapping")
    except Conflict as exc:
        flash(f"Mapping saved. {exc.message} The next run will be a full sync.", "warning")
        return redirect(url_for("admin.sync_history", integration_id=item.id))
    kick_sync()
    flash(f"Mapping saved ({len(changes)} field{'s' if len(changes) != 1 else ''} changed). A full sync has started.",
          "success")
    return redirect(url_for("admin.sync_run", run_id=run.id))
