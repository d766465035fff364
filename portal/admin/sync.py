"""Sync history, a run's live progress, Sync now / Full resync, and confirming held deactivations."""
from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for

from portal import integrations, policy, requesters
from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor, bounded_int, kick_sync
from portal.csv_export import csv_lines
from portal.database import get_or_404
from portal.directory import conflicts, dry_run, run_changes, runs
from portal.directory.sync import PREVIEW
from portal.directory.sync_plan import GUEST_POLICIES
from portal.exceptions import Conflict
from portal.models import SyncRun

NO_SUCH_RUN = "There is no such sync run."


@bp.route("/integrations/<int:integration_id>/sync", methods=["GET", "POST"])
def sync_history(integration_id):
    """Every run of this integration, newest first; POST queues a delta ('now') or full run."""
    item, form = integrations.integration_or_404(integration_id), ActionForm()
    if form.validate_on_submit():
        mode = "full" if request.form.get("mode") == "full" else "delta"
        try:
            run = runs.start_run(item, mode, "manual")
        except Conflict as exc:
            flash(exc.message, "warning")
            return redirect(url_for("admin.sync_history", integration_id=item.id))
        kick_sync()
        return redirect(url_for("admin.sync_run", run_id=run.id))
    page = max(request.args.get("page", 1, type=bounded_int), 1)
    return render_template("admin/sync_history.html", integration=item, runs=runs.run_history(item.id, page),
                           form=form, interval=policy.get("sync_interval_minutes"))


@bp.route("/sync/runs/<int:run_id>")
def sync_run(run_id):
    """A run's detail page; the progress card refreshes itself while the run is going."""
    run = get_or_404(SyncRun, run_id, NO_SUCH_RUN)
    return render_template("admin/sync_run.html", run=run, integration=integrations.integration_or_404(run.integration_id),
                           form=ActionForm(), is_preview=run.trigger == PREVIEW, guest_policies=GUEST_POLICIES,
                           overtaken=run.trigger == PREVIEW and dry_run.overtaken(run),
                           **run_changes.page_of(run, request.args.get("page", 1, type=bounded_int)))


@bp.route("/sync/runs/<int:run_id>/changes.csv")
def sync_run_changes(run_id):
    """Everyone the run changed, with field-level changes, streamed as CSV."""
    run = get_or_404(SyncRun, run_id, NO_SUCH_RUN)
    body = csv_lines(stream_with_context(run_changes.change_rows(run)), ("object_id", "name", "change", "fields"))
    return Response(stream_with_context(body), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="sync-run-{run.id}-changes.csv"'})


@bp.route("/sync/runs/<int:run_id>/progress")
def sync_run_progress(run_id):
    """The progress card alone (htmx polls it every second); once the run ends, the page reloads to list who changed
    and offer what comes next (confirm, or save a previewed mapping)."""
    run = get_or_404(SyncRun, run_id, NO_SUCH_RUN)
    response = render_template("admin/_sync_progress.html", run=run)
    if run.status not in ("queued", "running"):
        return response, 286, {"HX-Refresh": "true"}  # htmx stops polling on 286
    return response


@bp.route("/sync/runs/<int:run_id>/confirm", methods=["POST"])
def confirm_run(run_id):
    """An admin confirms a held run: a new full run applies the deactivations above the threshold."""
    run, form = get_or_404(SyncRun, run_id, NO_SUCH_RUN), ActionForm()
    if not form.validate_on_submit() or run.status != "awaiting_confirmation":
        flash("Only a run waiting for confirmation can be confirmed.", "warning")
        return redirect(url_for("admin.sync_run", run_id=run.id))
    try:
        new = runs.confirm_held_run(run, actor())
    except Conflict as exc:
        flash(f"{exc.message} The run still waits for confirmation: confirm it again when that one ends.", "warning")
        return redirect(url_for("admin.sync_run", run_id=run.id))
    kick_sync()
    flash(f"Confirmed. Run {new.id} applies the {run.held_deactivations} deactivations.", "success")
    return redirect(url_for("admin.sync_run", run_id=new.id))


@bp.route("/integrations/<int:integration_id>/conflicts")
def sync_conflicts(integration_id):
    """What syncs found to resolve (shared mail) or to know (renamed sign-in names), with what sync did."""
    item = integrations.integration_or_404(integration_id)
    page = conflicts.for_page(item.id)
    return render_template("admin/conflicts.html", integration=item, **page,
                           people=requesters.by_ids(conflicts.people_of(page)), guest_policies=GUEST_POLICIES)
