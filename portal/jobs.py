"""Background work run with an app context: queued syncs, due syncs and the secret-expiry check.

The web process kicks a thread right after queueing a run, so a sync starts at once; the scheduler
process polls for queued runs too, so nothing waits forever if a web worker dies.
"""
import logging
import threading
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from portal import admin_roles, integrations, live_update_jobs, live_updates, policy, signals
from portal.database import db
from portal.directory.runs import fail_interrupted_runs, start_run
from portal.directory.sync import PREVIEW, SyncSettings, build_sync_engine
from portal.entra import clients
from portal.exceptions import Conflict
from portal.models import AuditEvent, Integration, SyncRun

log = logging.getLogger("portal.jobs")


def run_queued_syncs(app) -> int:
    """Run every queued sync run (oldest first); returns how many ran."""
    ran = 0
    with app.app_context():
        fail_interrupted_runs()
        for run_id in db.session.scalars(sa.select(SyncRun.id).where(SyncRun.status == "queued").order_by(SyncRun.id)).all():
            run = db.session.get(SyncRun, run_id)
            integration = db.session.get(Integration, run.integration_id)
            if integration.paused_at:
                continue  # queued before the pause: it waits for resume
            try:
                build_sync_engine(integration, run, sync_settings(app.config)).execute()
                ran += 1
                if run.trigger != PREVIEW and run.status == "succeeded":
                    recheck_admin_roles(app, integration)
            except Conflict as exc:
                log.info("sync run %s waits: %s", run_id, exc.message)
            except Exception:  # recorded on the run by the engine; the next queued run still goes
                log.exception("sync run %s failed", run_id)
                db.session.rollback()
        db.session.remove()
    return ran


def recheck_admin_roles(app, integration: Integration) -> None:
    """After a sync, Microsoft admins who lost their role in Entra are signed out; a failure waits for the next sync."""
    try:
        lost = admin_roles.recheck_admins(integration, clients.MicrosoftSettings.from_config(app.config))
    except Exception:  # Graph down, say: the role is checked again at the next sync and at every sign-in
        log.exception("admin role check after the sync of integration %s failed", integration.id)
        db.session.rollback()
        return
    if lost:
        log.info("%s Microsoft admins of integration %s lost the role", lost, integration.id)


def kick(app) -> threading.Thread:
    """Start a background thread that runs queued syncs now."""
    thread = threading.Thread(target=_safe(run_queued_syncs), args=(app,), name="sync-kick", daemon=True)
    thread.start()
    return thread


def sync_settings(config) -> SyncSettings:
    """Settings for sync runs: Microsoft endpoints from the config, the deactivation threshold from policy."""
    return SyncSettings.from_config(config, policy.get("sync_deactivation_threshold_percent"))


def queue_due_syncs(app, now: datetime | None = None) -> list[int]:
    """Queue a delta sync for each verified integration whose mapping was saved and whose interval has passed."""
    now = now or datetime.now(UTC)
    queued = []
    with app.app_context():
        base = timedelta(minutes=policy.get("sync_interval_minutes"))
        for integration in db.session.scalars(sa.select(Integration).where(Integration.status == "verified",
                                                                             Integration.paused_at.is_(None))):
            if not integration.mapping_version:
                continue  # the admin maps the fields and submits first; that submit starts the first sync
            interval = live_updates.polling_interval(integration.id, base, app.config["LIVE_UPDATES_POLL_FACTOR"], now)
            if integration.last_sync_at and integration.last_sync_at + interval > now:
                continue
            try:
                queued.append(start_run(integration, "delta", "scheduler").id)
            except Conflict:
                continue
    return queued


def process_change_notifications(app) -> int:
    """The safety net behind the webhook's kick: pending change notifications become a delta sync run."""
    return live_update_jobs.process_inbox(app)


def maintain_live_updates(app, now: datetime | None = None) -> dict:
    """Create, renew or recreate each integration's change notification subscription."""
    return live_update_jobs.maintain(app, now)


def check_secret_expiry(app, today: date | None = None) -> int:
    """Audit, once per day, every integration whose secret expires within 30 or 7 days or has expired."""
    count = 0
    with app.app_context():
        today = today or datetime.now(UTC).date()
        start = datetime.combine(today, datetime.min.time(), UTC)
        for integration in integrations.all_integrations():
            state, days = integrations.expiry_state(integration, today)
            if state is None or _already_warned(integration, start):
                continue
            signals.integration_secret_expiring.send(
                "jobs", actor=signals.SCHEDULER, target=signals.Target("integration", str(integration.id), integration.name),
                outcome="failure" if state == "expired" else "success",
                reason="The client secret has expired." if state == "expired" else f"The client secret expires in {days} days.",
                detail={"expires_on": integration.secret_expires_on.isoformat(), "days_left": days})
            count += 1
        db.session.commit()
    return count


def run_actions(app) -> int:
    """Expire overdue approvals, email new ones, then run every due workflow action (reset, unlock, disable, revoke
    sessions)."""
    from portal import help_requests
    from portal.workflows import approval_notices, approvals, runner

    with app.app_context():
        try:
            help_requests.plan_waiting()
            approvals.expire_due()
            approvals.follow_manager_changes()
            approval_notices.notify_pending(app.config)
            return runner.run_pending(app.config)
        finally:
            db.session.remove()


def kick_actions(app) -> None:
    """After a ticket commits, run its actions now: in a thread, inline, or leave them to the scheduler."""
    mode = app.config.get("ACTION_KICK", "thread")
    if mode == "thread":
        threading.Thread(target=_safe(run_actions), args=(app,), name="action-kick", daemon=True).start()
    elif mode == "inline":
        run_actions(app)


def _safe(job):
    def wrapper(app):
        try:
            job(app)
        except Exception:
            log.exception("background job %s failed", job.__name__)
    return wrapper


def import_sign_ins(app, now: datetime | None = None) -> dict:
    """Import every verified integration's new sign-ins from Entra and apply the lockout policy; drop old ones."""
    from portal import sign_in_history

    results = {}
    with app.app_context():
        try:
            settings = clients.MicrosoftSettings.from_config(app.config)
            for integration in db.session.scalars(sa.select(Integration).where(Integration.status == "verified")).all():
                results[integration.id] = sign_in_history.import_for(integration, settings, now)
            days = policy.get("sign_in_history_days")
            sign_in_history.purge_older_than((now or datetime.now(UTC)) - timedelta(days=days))
        finally:
            db.session.remove()
    return results


def clean_up_sessions(app) -> tuple[int, int]:
    """End idle or over-age device sessions and drop device history past its retention."""
    from portal.devices import registry

    with app.app_context():
        values = policy.all_values()
        result = registry.cleanup(registry.SessionPolicy.from_values(values), values["device_history_days"])
        db.session.remove()
    return result


def archive_audit(app, now: datetime | None = None) -> int:
    """Move audit events older than the retention to a JSON Lines archive, then delete them."""
    from pathlib import Path

    from portal import audit

    with app.app_context():
        cutoff = (now or datetime.now(UTC)) - timedelta(days=policy.get("audit_retention_days"))
        directory = app.config.get("AUDIT_ARCHIVE_DIR") or Path(app.instance_path) / "audit-archive"
        count, _ = audit.archive_and_purge(cutoff, directory)
        db.session.remove()
    return count


def _already_warned(integration: Integration, since: datetime) -> bool:
    return bool(db.session.scalar(sa.select(AuditEvent.id).where(
        AuditEvent.action == "integration.secret_expiring", AuditEvent.target_id == str(integration.id),
        AuditEvent.occurred_at >= since).limit(1)))
