"""Sync history, a run's live progress, Sync now / Full resync, and confirming held deactivations."""
import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from portal import integrations, policy, signals
from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor, bounded_int, kick_sync
from portal.database import db
from portal.directory.sync import start_run
from portal.exceptions import Conflict, NotFound
from portal.models import SyncRun


@bp.route("/integrations/<int:integration_id>/sync", methods=["GET", "POST"])
def sync_history(integration_id):
    """Every run of this integration, newest first; POST queues a delta ('now') or full run."""
    item, form = integrations.get(integration_id), ActionForm()
    if form.validate_on_submit():
        mode = "full" if request.form.get("mode") == "full" else "delta"
        try:
            run = start_run(item, mode, "manual")
        except Conflict as exc:
            flash(exc.message, "warning")
            return redirect(url_for("admin.sync_history", integration_id=item.id))
        kick_sync()
        return redirect(url_for("admin.sync_run", run_id=run.id))
    page = max(request.args.get("page", 1, type=bounded_int), 1)
    runs = db.paginate(sa.select(SyncRun).where(SyncRun.integration_id == item.id).order_by(SyncRun.id.desc()),
                       page=page, per_page=25, error_out=False)
    return render_template("admin/sync_history.html", integration=item, runs=runs, form=form,
                           interval=policy.get("sync_interval_minutes"))


def _run(run_id) -> SyncRun:
    run = db.session.get(SyncRun, run_id)
    if run is None:
        raise NotFound("There is no such sync run.")
    return run


@bp.route("/sync/runs/<int:run_id>")
def sync_run(run_id):
    """A run's detail page; the progress card refreshes itself while the run is going."""
    run = _run(run_id)
    return render_template("admin/sync_run.html", run=run, integration=integrations.get(run.integration_id),
                           form=ActionForm())


@bp.route("/sync/runs/<int:run_id>/progress")
def sync_run_progress(run_id):
    """The progress card alone (htmx polls it every second)."""
    run = _run(run_id)
    response = render_template("admin/_sync_progress.html", run=run)
    if run.status not in ("queued", "running"):
        return response, 286  # htmx stops polling on 286
    return response


@bp.route("/sync/runs/<int:run_id>/confirm", methods=["POST"])
def confirm_run(run_id):
    """An admin confirms a held run: a new full run applies the deactivations above the threshold."""
    run, form = _run(run_id), ActionForm()
    if not form.validate_on_submit() or run.status != "awaiting_confirmation":
        flash("Only a run waiting for confirmation can be confirmed.", "warning")
        return redirect(url_for("admin.sync_run", run_id=run.id))
    item = integrations.get(run.integration_id)
    signals.sync_confirmed.send("admin", actor=actor(), target=signals.Target("integration", str(item.id), item.name),
                                detail={"run": run.id, "held_deactivations": run.held_deactivations})
    run.status = "confirmed"
    db.session.commit()
    new = start_run(item, "full", "confirmed")
    kick_sync()
    flash(f"Confirmed. Run {new.id} applies the {run.held_deactivations} deactivations.", "success")
    return redirect(url_for("admin.sync_run", run_id=new.id))
