"""Scheduler: one leader at a time through the database lease; due syncs are queued once."""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from portal import jobs, leases
from portal.models import SyncRun
from portal.scheduler import LEADER_LEASE, configure, lead


def test_only_one_scheduler_leads(app, db):
    """Two scheduler processes: the first leads and keeps leading; the second waits until the lease expires."""
    assert lead(app, "host-a:1") and lead(app, "host-a:1")
    assert not lead(app, "host-b:2")
    db.session.execute(sa.text("UPDATE leases SET expires_at = :t WHERE name = :n"),
                       {"t": datetime.now(UTC) - timedelta(seconds=1), "n": LEADER_LEASE})
    db.session.commit()
    assert lead(app, "host-b:2") and not lead(app, "host-a:1")


def test_jobs_are_replaced_not_duplicated(app):
    """Configuring twice keeps one job per id (replace_existing)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)  # replace_existing applies to a started scheduler's job store
    try:
        configure(scheduler, app, "h")
        configure(scheduler, app, "h")
        ids = sorted(j.id for j in scheduler.get_jobs())
    finally:
        scheduler.shutdown(wait=False)
    assert ids == ["audit-archive", "live-updates-at-start", "live-updates-inbox", "live-updates-subscriptions",
                   "queue-due-syncs", "run-actions", "run-queued-syncs", "secret-expiry", "secret-expiry-at-start",
                   "session-cleanup", "sign-in-logs"]


def test_due_syncs_are_queued_once(app, db, integration):
    """Nothing is due before the mapping is saved; then a verified integration never synced is due; queueing again
    while queued adds nothing."""
    from portal import integrations, signals

    assert jobs.queue_due_syncs(app) == []  # installed and verified, but the fields are not mapped yet
    assert integrations.save_mapping(integration, integrations.mapping_of(integration), actor=signals.SYSTEM) == {}
    assert integration.mapping_version == 1  # saving the defaults unchanged still counts as the admin's submit
    assert len(jobs.queue_due_syncs(app)) == 1
    assert jobs.queue_due_syncs(app) == []
    assert jobs.run_queued_syncs(app) == 1
    run = db.session.scalar(sa.select(SyncRun))
    assert run.status == "succeeded" and run.trigger == "scheduler" and run.mode == "full"
    assert jobs.queue_due_syncs(app) == []  # synced just now, next one after the interval
    later = datetime.now(UTC) + timedelta(minutes=61)
    assert len(jobs.queue_due_syncs(app, now=later)) == 1


def test_stale_running_run_is_marked_interrupted(app, db, integration):
    """A run whose process died (no heartbeat for 10 minutes) is failed with an explanation."""
    old = datetime.now(UTC) - timedelta(minutes=30)
    db.session.add(SyncRun(integration_id=integration.id, mode="full", status="running", started_at=old, heartbeat_at=old))
    db.session.commit()
    jobs.run_queued_syncs(app)
    db.session.expire_all()
    run = db.session.scalar(sa.select(SyncRun))
    assert run.status == "failed" and "Interrupted" in run.message
    assert leases.holder_of("sync:%d" % integration.id) is None


def test_a_crashed_holder_loses_its_lease_and_its_run_at_once(app, db, integration):
    """A sync process killed mid-run (its pid is gone): the next start marks the run interrupted and takes over."""
    import subprocess
    import sys
    from datetime import timedelta

    from portal import leases
    from portal.directory.runs import lease_name, start_run
    from portal.models import SyncRun

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    holder = leases.holder_name("sync").split(":")
    holder[-2] = dead.stdout.strip()  # the same host, a process that has exited
    crashed = ":".join(holder)
    assert leases.crashed(crashed) and not leases.crashed(leases.holder_name("sync"))
    assert leases.acquire(lease_name(integration.id), crashed, timedelta(minutes=5))
    orphan = start_run(integration, "full", "cli")
    orphan.status = "running"
    db.session.commit()
    fresh = start_run(integration, "full", "cli")  # not refused as "already running"
    assert db.session.get(SyncRun, orphan.id).status == "failed"
    assert "Interrupted" in db.session.get(SyncRun, orphan.id).message
    assert leases.acquire(lease_name(integration.id), "sync:elsewhere:1:x", timedelta(minutes=5))
    assert fresh.status == "queued"


def test_two_scheduler_processes_run_each_sync_and_action_once(app, db, db_url, emulator, catalogue, tmp_path):
    """Two scheduler processes tick at the same moment on PostgreSQL: one sync run, and each action exactly once."""
    import json
    import os
    import subprocess
    import sys

    import pytest

    if not db_url.startswith("postgresql"):
        pytest.skip("two processes writing at once need PostgreSQL; SQLite serialises the whole database")
    from portal import signals, tickets
    from portal.directory.runs import start_run
    from portal.models import ActionRun, Requester
    from portal.workflows import admin_service
    from tests.conftest import install_integration

    integration = install_integration(app, emulator)
    start_run(integration, "full", "manual")
    jobs.run_queued_syncs(app)
    db.session.execute(sa.update(type(integration)).values(last_sync_at=datetime.now(UTC) - timedelta(days=1),
                                                           mapping_version=1))  # mapped, and synced a day ago
    db.session.commit()  # due again, for both schedulers at once
    app.config["ACTION_KICK"] = "none"
    admin_service.save(None, "unlock", [catalogue["Account locked out"].id], True,
                       [{"integration_id": integration.id, "action": "unlock", "target": "requester"}], actor=signals.SYSTEM)
    people = db.session.scalars(sa.select(Requester).where(Requester.status == "active").limit(6)).all()
    for person in people:
        tickets.create(person, catalogue["Account locked out"].id, "Locked out", "")
    go = tmp_path / "go"
    env = dict(os.environ, TICK_DATABASE_URL=db_url, TICK_ENCRYPTION_KEY=app.config["ENCRYPTION_KEY"], TICK_GO=str(go),
               TICK_AUTHORITY=app.config["ENTRA_AUTHORITY_HOST"], TICK_GRAPH=app.config["GRAPH_ENDPOINT"],
               TICK_CA=app.config["ENTRA_CA_BUNDLE"])
    db.session.remove()
    procs = [subprocess.Popen([sys.executable, "-m", "tests.scheduler_tick"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-1500:] for o in outputs]
    ticks = [json.loads(o[0].strip().splitlines()[-1]) for o in outputs]
    assert sum(t["queued"] for t in ticks) == 1 and sum(t["synced"] for t in ticks) == 1, ticks
    assert sum(t["actions"] for t in ticks) == len(people), ticks
    runs = db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id)).all()
    assert [r.status for r in runs] == ["succeeded", "succeeded"] and runs[1].trigger == "scheduler"
    actions = db.session.scalars(sa.select(ActionRun)).all()
    assert len(actions) == len(people) and all(a.status == "succeeded" and a.attempts == 1 for a in actions)
