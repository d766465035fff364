"""Directory sync against a 2,500-user emulated tenant over HTTPS: full, delta, threshold, faults, no-op runs."""
import dataclasses
import threading
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from portal import jobs
from portal.directory.runs import PAGE_SIZE, lease_name, start_run
from portal.directory.sync import build_sync_engine
from portal.models import Integration, Requester, SyncRun
from tests.conftest import dedicated_tenant, install_integration

USERS = 2500


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    """A dedicated emulator for sync tests, so exact counts are not disturbed by other tests."""
    yield from dedicated_tenant(tmp_path_factory, USERS, 11, "sync-emulator")


@pytest.fixture
def synced(app, tenant):
    """An installed integration (default mapping) against the sync tenant."""
    tenant.clear_faults()
    integration = install_integration(app, tenant)
    yield integration
    tenant.clear_faults()


def sync(app, integration, mode="delta", trigger="manual", run=None, page_size=PAGE_SIZE, on_page=None):
    """Queue and run one sync in this thread (or run an already queued one); returns the finished run.

    A run triggered as "confirmed" applies deactivations above the threshold, as the admin's confirmation does.
    """
    run = run or start_run(integration, mode, trigger)
    settings = dataclasses.replace(jobs.sync_settings(app.config), page_size=page_size)
    return build_sync_engine(integration, run, settings, on_page=on_page).execute()


def table(db, integration):
    """The requester table as comparable tuples."""
    rows = db.session.execute(sa.select(Requester.entra_object_id, Requester.display_name, Requester.email,
                                        Requester.department, Requester.status, Requester.manager_id.is_not(None))
                              .where(Requester.integration_id == integration.id).order_by(Requester.entra_object_id))
    return [tuple(r) for r in rows]


def live_users(tenant):
    users = tenant.running.state.directory.tenants[tenant.tenant_id].users.values()
    return [u for u in users if not u.soft_deleted]


def test_full_sync_creates_every_user_with_exact_counts(app, db, synced, tenant):
    """The first sync creates one requester per user; disabled users come in as disabled; managers resolve."""
    run = sync(app, synced)
    users = live_users(tenant)
    enabled = sum(1 for u in users if u.props["accountEnabled"])
    assert run.status == "succeeded", run.message
    assert run.mode == "full" and run.created == len(users) and run.pages == -(-len(users) // PAGE_SIZE)
    assert run.updated == run.unchanged == run.deactivated == run.failed == 0
    counts = dict(db.session.execute(sa.select(Requester.status, sa.func.count()).group_by(Requester.status)).all())
    assert counts == {"active": enabled, "disabled": len(users) - enabled}
    with_manager = db.session.scalar(sa.select(sa.func.count()).select_from(Requester).where(Requester.manager_id.is_not(None)))
    assert with_manager == sum(1 for u in users if u.manager_id)
    db.session.refresh(synced)
    assert synced.delta_link and synced.last_sync_at


@contextmanager
def requester_writes(db):
    """The INSERT and UPDATE statements on requesters run inside the block (counted at the SQL level)."""
    writes = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT INTO REQUESTERS", "UPDATE REQUESTERS")):
            writes.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield writes
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_no_change_delta_writes_no_requester_row(app, db, synced):
    """A delta run with nothing changed writes no requester row at all (counted at the SQL level)."""
    sync(app, synced)
    with requester_writes(db) as writes:
        run = sync(app, synced)
    assert run.status == "succeeded" and run.mode == "delta"
    assert run.created == run.updated == run.deactivated == 0 and writes == []


def test_full_resync_of_unchanged_tenant_writes_nothing(app, db, synced):
    """A second full sync finds every user unchanged by content hash."""
    first = sync(app, synced)
    second = sync(app, synced, mode="full")
    assert second.unchanged == first.created and second.created == second.updated == 0


def test_delta_applies_every_kind_of_change(app, db, synced, tenant):
    """Create, change, disable, soft-delete, restore and hard-delete reach the table through delta."""
    sync(app, synced)
    ids = [u.id for u in live_users(tenant) if u.props["accountEnabled"]][:5]
    changed, disabled, soft, gone, restored = ids
    tenant.soft_delete(restored)
    sync(app, synced)
    name = f"n{uuid.uuid4().hex[:8]}"
    created = tenant.create_user(userPrincipalName=f"{name}@{tenant.info['tenant_domain']}", displayName="Nina Neu",
                                 mail=f"{name}@{tenant.info['tenant_domain']}", department="Legal")["props"]["id"]
    tenant.update_user(changed, department="Skunkworks")
    tenant.update_user(disabled, accountEnabled=False)
    tenant.soft_delete(soft)
    tenant.restore(restored)
    tenant.hard_delete(gone)
    run = sync(app, synced)
    assert run.status == "succeeded" and run.mode == "delta"
    assert (run.created, run.updated, run.deactivated, run.reactivated) == (1, 1, 3, 1)
    status = dict(db.session.execute(sa.select(Requester.entra_object_id, Requester.status)).all())
    assert status[created] == "active" and status[disabled] == "disabled"
    assert status[soft] == status[gone] == "deleted" and status[restored] == "active"
    dept = db.session.scalar(sa.select(Requester.department).where(Requester.entra_object_id == changed))
    assert dept == "Skunkworks"
    tenant.update_user(disabled, accountEnabled=True)
    tenant.restore(soft)


def test_delta_commits_each_page_as_it_goes(app, db, synced, tenant):
    """A delta over several pages writes each page in its own transaction: another connection sees the first
    page's changes before the listing ends, and the cursor moves only once the last page is in."""
    sync(app, synced)
    changed = [u.id for u in live_users(tenant)][:250]
    for oid in changed:
        tenant.update_user(oid, department="Paged")
    link_before, visible, links = synced.delta_link, [], []

    def look(run):  # after each page's commit, from outside the sync's session
        with db.engine.connect() as conn:
            visible.append(conn.execute(sa.select(sa.func.count()).select_from(Requester)
                                        .where(Requester.department == "Paged")).scalar())
            links.append(conn.execute(sa.select(Integration.delta_link).where(Integration.id == synced.id)).scalar())

    run = sync(app, synced, page_size=100, on_page=look)
    assert run.status == "succeeded" and run.mode == "delta" and run.updated == 250 and run.pages == len(visible)
    assert len(visible) >= 3 and 0 < visible[0] < 250 and visible == sorted(visible) and visible[-1] == 250
    assert set(links) == {link_before}
    db.session.refresh(synced)
    assert synced.delta_link != link_before


def test_first_sync_adopts_local_requester_by_email(app, db, synced, tenant):
    """A requester created before sync, with a tenant user's email, is linked, not duplicated."""
    user = live_users(tenant)[3]
    db.session.add(Requester(display_name="Local copy", email=user.props["mail"].upper()))
    db.session.commit()
    run = sync(app, synced)
    assert run.created == len(live_users(tenant)) - 1
    rows = db.session.scalars(sa.select(Requester).where(sa.func.lower(Requester.email) == user.props["mail"].lower())).all()
    assert len(rows) == 1 and rows[0].entra_object_id == user.id and rows[0].display_name == user.props["displayName"]


def test_mass_deactivation_is_held_until_confirmed(app, db, synced, tenant):
    """Disabling more than the threshold's share of users stops the run with nothing deactivated and the cursor
    where it was; confirming applies it."""
    from portal import policy

    sync(app, synced)
    enabled = [u.id for u in live_users(tenant) if u.props["accountEnabled"]]
    victims = enabled[:300]
    assert len(victims) > len(enabled) * policy.get("sync_deactivation_threshold_percent") / 100
    link_before = synced.delta_link
    for oid in victims:
        tenant.update_user(oid, accountEnabled=False)
    try:
        before = table(db, synced)
        held = sync(app, synced)
        assert held.status == "awaiting_confirmation" and held.held_deactivations == 300 and held.deactivated == 0
        assert table(db, synced) == before
        db.session.refresh(synced)
        assert synced.delta_link == link_before
        confirmed = sync(app, synced, trigger="confirmed")
        assert confirmed.status == "succeeded" and confirmed.deactivated == 300
        db.session.refresh(synced)
        assert synced.delta_link != link_before
        disabled = db.session.scalar(sa.select(sa.func.count()).select_from(Requester).where(
            Requester.entra_object_id.in_(victims), Requester.status == "disabled"))
        assert disabled == 300
    finally:
        for oid in victims:
            tenant.update_user(oid, accountEnabled=True)


def test_faults_mid_run_give_the_same_table(app, db, synced, tenant, capsys):
    """10% 429 with Retry-After, 5% 503, 2% dropped connections and random latency: the same table as a clean run."""
    tenant.set_faults(error_rates={"429": 0.10, "503": 0.05}, drop_rate=0.02, retry_after=1, latency_ms=1,
                      latency_jitter_ms=40, seed=3)
    tenant.reset_stats()
    faulty = sync(app, synced, mode="full", page_size=100)  # 25 pages, so every kind of fault turns up
    faults = tenant.stats()
    tenant.clear_faults()
    assert faulty.status == "succeeded", faulty.message
    assert faulty.retries > 0 and faulty.created == len(live_users(tenant))
    faulty_table = table(db, synced)
    ids = [row[0] for row in faulty_table]
    assert len(ids) == len(set(ids)) == len(live_users(tenant))  # nobody twice, nobody lost
    clean = sync(app, synced, mode="full")
    assert clean.status == "succeeded" and clean.created == clean.updated == clean.deactivated == 0
    assert table(db, synced) == faulty_table
    with capsys.disabled():
        print(f"\n[reliability] faulty full sync: {faulty.pages} pages, {faulty.retries} retries "
              f"(emulator: {faults['throttled']} throttled, {faults['faults']} faults), table equal to a clean run")


def test_expired_delta_token_falls_back_to_full(app, db, synced, tenant):
    """resyncRequired from Graph makes the run a full sync, and it says so."""
    sync(app, synced)
    tenant.expire_delta_tokens()
    run = sync(app, synced)
    assert run.status == "succeeded" and run.mode == "full" and "full resync" in run.message


def test_persistent_throttling_fails_the_run_cleanly(app, db, synced, tenant):
    """When Graph keeps throttling beyond the retry budget, the run fails with Graph's code and keeps the cursor."""
    sync(app, synced)
    link_before = synced.delta_link
    tenant.set_faults(error_rates={"429": 1.0}, retry_after=0)
    app.config["GRAPH_MAX_ATTEMPTS"] = 3
    run = sync(app, synced, mode="full")
    tenant.clear_faults()
    assert run.status == "failed" and "Too many requests" in run.message
    db.session.refresh(synced)
    assert synced.delta_link == link_before


def test_a_second_trigger_reports_already_running(app, db, synced):
    """Queueing while a run is queued or running is refused with a clear message."""
    start_run(synced, "delta", "manual")
    from portal.exceptions import Conflict

    with pytest.raises(Conflict, match="already queued or running"):
        start_run(synced, "full", "manual")


def test_lease_held_elsewhere_refuses_the_run(app, db, synced):
    """While another process holds the integration's lease, a run is refused as already running."""
    from datetime import timedelta

    from portal import leases
    from portal.exceptions import Conflict

    assert leases.acquire(lease_name(synced.id), "other-process", timedelta(minutes=5))
    queued = start_run(synced, "delta", "manual")
    with pytest.raises(Conflict, match="already running"):
        sync(app, synced, run=queued)
    assert db.session.get(SyncRun, queued.id).status == "queued"  # it waits for the lease, it is not lost
    leases.release(lease_name(synced.id), "other-process")
    assert sync(app, synced, run=queued).status == "succeeded"


def test_two_concurrent_triggers_run_once(app, db, synced, db_url):
    """Two workers trigger a sync at the same moment on PostgreSQL: exactly one run executes."""
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent writers need PostgreSQL; SQLite serialises the whole database")
    from portal.exceptions import Conflict

    barrier, outcomes = threading.Barrier(2, timeout=30), []
    integration_id = synced.id
    db.session.commit()

    def worker():
        with app.app_context():
            try:
                integration = db.session.get(Integration, integration_id)
                barrier.wait()
                outcomes.append(sync(app, integration).status)
            except Conflict:
                outcomes.append("refused")
            except Exception as exc:  # surfaced by the assertion below instead of hanging the other thread
                outcomes.append(repr(exc))
                barrier.abort()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes) == ["refused", "succeeded"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun).where(SyncRun.status == "succeeded")) == 1


def test_the_database_refuses_a_second_active_run(app, db, synced):
    """Two processes that both saw nothing running cannot both queue: the partial unique index refuses the second."""
    from sqlalchemy.exc import IntegrityError

    db.session.add(SyncRun(integration_id=synced.id, mode="delta", trigger="scheduler", status="queued"))
    db.session.commit()
    db.session.add(SyncRun(integration_id=synced.id, mode="full", trigger="manual", status="running"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(SyncRun(integration_id=synced.id, mode="full", trigger="manual", status="succeeded"))
    db.session.commit()  # finished runs are history: any number of them
