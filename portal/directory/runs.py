"""Sync runs as a service: queue one, sweep interrupted ones, list an integration's history, confirm a held run."""
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import leases, signals
from portal.database import db
from portal.entra import clients
from portal.exceptions import Conflict, EntraError, GraphError
from portal.models import Integration, SyncRun

STALE_AFTER = timedelta(minutes=10)  # no heartbeat for this long: the process running the sync is gone
INTERRUPTED = "Interrupted: the process running this sync stopped. The next run redoes it from the start."
HISTORY_PAGE_SIZE = 25
PAGE_SIZE = 999  # the most users Graph returns per page of /users and /users/delta


def lease_name(integration_id: int) -> str:
    """The lease that lets one process at a time run this integration's syncs."""
    return f"sync:{integration_id}"


def start_run(integration: Integration, mode: str, trigger: str, proposed: dict | None = None) -> SyncRun:
    """Record a queued run (the runner picks it up; `proposed` is a preview's mapping); refuses when one is already
    queued or running, or the integration is paused or uninstalled."""
    if integration.paused_at or integration.status == "uninstalled":
        state = "paused: resume it first" if integration.paused_at else "uninstalled"
        raise Conflict(f"{integration.name} is {state}, so it does not sync.")
    fail_interrupted_runs(integration.id)
    busy = db.session.scalar(sa.select(SyncRun.id).where(SyncRun.integration_id == integration.id,
                                                         SyncRun.status.in_(("queued", "running"))))
    if busy:
        raise Conflict(f"A sync is already queued or running for {integration.name} (run {busy}).")
    run = SyncRun(integration_id=integration.id, mode=mode, trigger=trigger, status="queued", proposed=proposed)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError as exc:  # another process queued one between our check and our insert
        db.session.rollback()
        raise Conflict(f"A sync is already queued or running for {integration.name}.") from exc
    return run


def fail_interrupted_runs(integration_id: int | None = None) -> int:
    """Mark failed every 'running' run whose process stopped, so the next run can start; returns how many.

    A process that crashed or was killed holds no live lease any more (seen at once), and its heartbeat stops
    (seen after STALE_AFTER, also from another host). Commits only when it marked something.
    """
    query = sa.select(SyncRun).where(SyncRun.status == "running")
    if integration_id is not None:
        query = query.where(SyncRun.integration_id == integration_id)
    running = db.session.scalars(query).all()
    unleased = {iid: leases.holder_of(lease_name(iid)) is None for iid in {run.integration_id for run in running}}
    now = datetime.now(UTC)
    cutoff = now - STALE_AFTER
    interrupted = [run for run in running if unleased[run.integration_id]
                   or (run.heartbeat_at is not None and run.heartbeat_at < cutoff)]
    for run in interrupted:
        run.status, run.finished_at, run.message = "failed", now, INTERRUPTED
    if interrupted:
        db.session.commit()
    return len(interrupted)


def run_history(integration_id: int, page: int):
    """One page of an integration's runs, newest first, as a pagination object for the history template."""
    query = sa.select(SyncRun).where(SyncRun.integration_id == integration_id).order_by(SyncRun.id.desc())
    return db.paginate(query, page=page, per_page=HISTORY_PAGE_SIZE, error_out=False)


def confirm_held_run(run: SyncRun, actor: signals.Principal) -> SyncRun:
    """An admin confirms a held run: queue the full run that applies it first (refused while another run is queued or
    running, and then the held run stays waiting), then audit it and close it as confirmed."""
    integration = db.session.get(Integration, run.integration_id)
    new = start_run(integration, "full", "confirmed")
    signals.sync_confirmed.send("admin", actor=actor, target=signals.Target("integration", str(integration.id),
                                                                              integration.name),
                                detail={"run": run.id, "held_deactivations": run.held_deactivations})
    run.status = "confirmed"
    db.session.commit()
    return new


@dataclass(frozen=True)
class SyncSettings:
    """What a run needs from configuration and policy: Microsoft endpoints, the deactivation threshold, page size."""

    microsoft: clients.MicrosoftSettings
    threshold_percent: int
    page_size: int = PAGE_SIZE

    @classmethod
    def from_config(cls, config, threshold_percent: int, page_size: int = PAGE_SIZE) -> "SyncSettings":
        """Build from the app config mapping and the current policy threshold."""
        return cls(clients.MicrosoftSettings.from_config(config), threshold_percent, page_size)


def run_actor(run: SyncRun) -> signals.Principal:
    """Who the audit log names for a run: the scheduler for its own runs, else the system."""
    return signals.SCHEDULER if run.trigger == "scheduler" else signals.SYSTEM


def integration_target(integration: Integration) -> signals.Target:
    """The audit target for an integration's runs."""
    return signals.Target("integration", str(integration.id), integration.name)


def run_counts(run: SyncRun) -> dict:
    """A run's counters, as its audit events record them."""
    return {"run": run.id, "mode": run.mode, "pages": run.pages, "fetched": run.fetched, "created": run.created,
            "updated": run.updated, "unchanged": run.unchanged, "deactivated": run.deactivated,
            "reactivated": run.reactivated, "failed": run.failed, "retries": run.retries,
            "held_deactivations": run.held_deactivations, "conflicts": run.conflicts, "excluded": run.excluded,
            "already_removed": run.already_removed}


def mark_failing_if_credentials(integration_id: int, run: SyncRun, exc) -> None:
    """A token or permission failure during a run (an expired secret, revoked consent) marks the integration failing
    with Microsoft's code and words, as Verify would; throttling and outages do not."""
    if isinstance(exc, GraphError) and exc.http_status not in (401, 403):
        return
    if isinstance(exc, EntraError) and exc.retryable:
        return
    integration = db.session.get(Integration, integration_id)
    info = {k: v for k, v in exc.support_info().items() if k != "description"}
    integration.status, integration.status_reason, integration.last_error = "failing", exc.message, info
    signals.integration_failing.send("sync", actor=run_actor(run), target=integration_target(integration),
                                     outcome="failure", reason=exc.message, detail=info)
    db.session.commit()
