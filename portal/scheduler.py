"""APScheduler jobs: delta sync when due, queued runs, and the daily secret-expiry check.

Jobs run in `flask scheduler run` (or inside the web process for the single-process demo). Every tick
first takes or renews the "scheduler" database lease, so with two scheduler processes only the leader
works; job ids are fixed and added with replace_existing=True, so restarting is idempotent.
"""
import logging
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from portal import jobs, leases
from portal.database import db

log = logging.getLogger("portal.scheduler")
LEADER_LEASE = "scheduler"
LEADER_TTL = timedelta(seconds=90)


def holder_id() -> str:
    """Identifies this process in the lease table."""
    return leases.holder_name("scheduler")


def lead(app, holder: str) -> bool:
    """Take or renew the leader lease; only the leader runs jobs."""
    with app.app_context():
        try:
            return leases.acquire(LEADER_LEASE, holder, LEADER_TTL)
        finally:
            db.session.remove()


def _guarded(app, holder: str, job):
    def tick():
        if not lead(app, holder):
            return
        try:
            job(app)
        except Exception:
            log.exception("scheduler job %s failed", job.__name__)
    tick.__name__ = f"leader_{job.__name__}"
    return tick


def configure(scheduler, app, holder: str):
    """Add (or replace) the jobs on any APScheduler scheduler."""
    every = {"misfire_grace_time": 30, "coalesce": True, "max_instances": 1, "replace_existing": True}
    scheduler.add_job(_guarded(app, holder, jobs.queue_due_syncs), "interval", seconds=60, id="queue-due-syncs", **every)
    scheduler.add_job(_guarded(app, holder, jobs.run_queued_syncs), "interval", seconds=5, id="run-queued-syncs", **every)
    scheduler.add_job(_guarded(app, holder, jobs.check_secret_expiry), "cron", hour=6, id="secret-expiry", **every)
    scheduler.add_job(_guarded(app, holder, jobs.run_actions), "interval", seconds=10, id="run-actions", **every)
    scheduler.add_job(_guarded(app, holder, jobs.archive_audit), "cron", hour=3, id="audit-archive", **every)
    scheduler.add_job(_guarded(app, holder, jobs.clean_up_sessions), "interval", minutes=5, id="session-cleanup", **every)
    scheduler.add_job(_guarded(app, holder, jobs.import_sign_ins), "interval", seconds=60, id="sign-in-logs", **every)
    scheduler.add_job(_guarded(app, holder, jobs.process_change_notifications), "interval", seconds=5,
                      id="live-updates-inbox", **every)
    scheduler.add_job(_guarded(app, holder, jobs.maintain_live_updates), "interval", seconds=60,
                      id="live-updates-subscriptions", **every)
    scheduler.add_job(_guarded(app, holder, jobs.check_secret_expiry), "date", id="secret-expiry-at-start",
                      replace_existing=True)
    scheduler.add_job(_guarded(app, holder, jobs.maintain_live_updates), "date", id="live-updates-at-start",
                      replace_existing=True)
    return scheduler


def run_forever(app) -> None:
    """The scheduler process: blocks until interrupted."""
    holder = holder_id()
    log.info("scheduler starting as %s", holder)
    configure(BlockingScheduler(timezone="UTC"), app, holder).start()


def start_in_process(app) -> BackgroundScheduler:
    """The demo's in-process scheduler (daemon threads)."""
    scheduler = configure(BackgroundScheduler(timezone="UTC", daemon=True), app, holder_id())
    scheduler.start()
    return scheduler
