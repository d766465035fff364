"""Field mapping on three tabs with a live preview of real users, who is synced (the tenant or chosen groups), and a
dry run of it all; saving starts a full sync."""
from flask import flash, redirect, render_template, request, url_for

from portal import integrations, sync_scope
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
    scope = sync_scope.current_scope(item)
    form = mapping_form(field_mapping.GRAPH_ATTRIBUTES, dict(integrations.mapping_of(item), guest_policy=item.guest_policy,
                                                             scope=item.sync_scope))
    preview, preview_error, scope_error = None, None, None
    if form.validate_on_submit():
        chosen = {f.name: getattr(form, f.name).data or None for f in field_mapping.PORTAL_FIELDS}
        picked = request.form.getlist("scope_groups")
        try:
            if form.preview.data:
                preview = integrations.preview(item, chosen, ms_settings())
            else:
                scope = _chosen_scope(scope, picked)
                clean = sync_scope.clean_scope(item, form.scope.data, picked, ms_settings())
                if form.dry_run.data:
                    return _dry_run(item, chosen, form.guest_policy.data, clean)
                return _save(item, chosen, form.guest_policy.data, clean)
        except field_mapping.MappingInvalid as exc:
            for name, message in exc.errors.items():
                getattr(form, name).errors = [message]
        except (GraphError, EntraError) as exc:
            preview_error = exc.message
        except ValidationError as exc:
            scope_error = exc.message
        except Conflict as exc:
            flash(exc.message, "warning")
    template = "admin/_mapping_preview.html" if request.headers.get("HX-Request") else "admin/mapping.html"
    status = 422 if form.errors or scope_error else 200
    return render_template(template, integration=item, form=form, fields=field_mapping.PORTAL_FIELDS, tabs=field_mapping.TABS,
                           preview=preview, preview_error=preview_error, scope=scope, scope_error=scope_error), status


def _chosen_scope(stored: dict, picked: list) -> dict:
    """What the page shows again after a refused submit: the groups picked (only well-formed ids), named if known."""
    names = {g["id"]: g["name"] for g in stored["groups"]}
    ids = dict.fromkeys(v.strip().lower() for v in picked if sync_scope.GROUP_ID.match(v.strip().lower()))
    return dict(stored, groups=[{"id": i, "name": names.get(i, i), "missing": False} for i in ids])


def _dry_run(item, chosen, guest_policy, scope):
    run = dry_run.start_preview(item, chosen, guest_policy, scope)
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
        chosen, guest_policy, scope = dry_run.proposal_of(run)
    except Conflict as exc:
        flash(exc.message, "warning")
        return redirect(url_for("admin.sync_run", run_id=run.id))
    return _save(item, chosen, guest_policy, scope)


def _save(item, chosen, guest_policy, scope):
    changes = integrations.save_mapping(item, chosen, actor=actor(), guest_policy=guest_policy, scope=scope)
    try:
        run = start_run(item, "full", "mapping")
    except Conflict as exc:
        flash(f"Mapping saved. {exc.message} The next run will be a full sync.", "warning")
        return redirect(url_for("admin.sync_history", integration_id=item.id))
    kick_sync()
    flash(f"Mapping saved ({len(changes)} field{'s' if len(changes) != 1 else ''} changed). A full sync has started.",
          "success")
    return redirect(url_for("admin.sync_run", run_id=run.id))
