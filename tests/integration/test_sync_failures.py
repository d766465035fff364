"""Sync errors say what happened: an expired client secret marks the integration failing with Microsoft's words, the
run keeps the message, and one crashing run never stops the next queued one."""
import sqlalchemy as sa

from portal import jobs
from portal.directory.runs import start_run
from portal.entra import credentials
from portal.models import AuditEvent, Integration, SyncRun


def test_an_expired_secret_mid_sync_marks_the_integration_failing(app, db, synced, emulator):
    """AADSTS7000222 while a sync fetches pages: the run fails with the plain message (no 'Unexpected error'), the
    integration is failing with Microsoft's code, it is audited, and the scheduler queues nothing more for it."""
    emulator.update_app(synced.client_id, secret_expires_in=-60)
    credentials.forget_all_clients()  # the next page needs a new token, as it would an hour into a long sync
    try:
        start_run(synced, "full", "manual")
        jobs.run_queued_syncs(app)
    finally:
        emulator.update_app(synced.client_id, secret_expires_in=None)
    db.session.expire_all()
    run = db.session.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert run.status == "failed" and "expired" in run.message.lower() and "Unexpected" not in run.message
    integration = db.session.get(Integration, synced.id)
    assert integration.status == "failing" and str(integration.last_error["aadsts"]) == "7000222"
    assert "expired" in integration.status_reason.lower()
    failing = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "integration.failing"))
    assert "expired" in failing.reason.lower() and failing.target_id == str(synced.id)
    assert jobs.queue_due_syncs(app) == []


def test_a_crashing_run_does_not_stop_the_next(app, db, synced, monkeypatch):
    """An unexpected error in one run is recorded on it; the job loop goes on to the next queued run."""
    from portal.directory import sync as sync_module

    # Built directly (an install would refuse the same tenant twice): only the job loop is under test here.
    twin = Integration(name="Second copy", tenant_id=synced.tenant_id, client_id=synced.client_id,
                       secret_encrypted=synced.secret_encrypted, secret_hint=synced.secret_hint, status="verified",
                       directory_tenant_id=synced.directory_tenant_id, granted_permissions=synced.granted_permissions,
                       mapping_version=1)
    db.session.add(twin)
    db.session.commit()
    first, second = start_run(synced, "full", "manual"), start_run(twin, "full", "manual")
    real = sync_module.SyncEngine._full_sync

    def explode_once(engine):
        if engine.run.id == first.id:
            raise RuntimeError("boom")
        return real(engine)

    monkeypatch.setattr(sync_module.SyncEngine, "_full_sync", explode_once)
    jobs.run_queued_syncs(app)
    db.session.expire_all()
    assert db.session.get(SyncRun, first.id).status == "failed"
    assert db.session.get(SyncRun, first.id).message == "Unexpected error: RuntimeError"
    assert db.session.get(SyncRun, second.id).status == "succeeded"
