"""Live updates: Graph change notifications through the real emulator to the portal on a real socket."""
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from portal import jobs, live_updates
from portal.directory.notifications import SUBSCRIPTION_LIFETIME
from portal.directory.runs import start_run
from portal.models import AuditEvent, ChangeNotification, DeviceSession, LiveUpdateSubscription, Requester, SyncRun
from tests import sso

PASSWORD = "Start-Password-1"
NOTIFY = "/api/live-updates/notifications"


@pytest.fixture
def live_portal(app, emulator):
    """The test app served on a loopback port, which is its PUBLIC_URL; no subscription outlives the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}/"
    yield app.config["PUBLIC_URL"]
    emulator.clear_subscriptions()
    emulator.clear_faults()
    server.shutdown()
    settle_kicks(app)


def settle_kicks(app):
    """No processing thread of this test may run on into the next one's tables."""
    app.config["LIVE_UPDATES_KICK"] = "none"
    for thread in threading.enumerate():
        if thread.name == "live-updates-kick":
            thread.join(30)


@pytest.fixture
def subscribed(app, synced, live_portal, emulator, db):
    """A synced integration whose subscription the maintenance job made; returns the emulator's view of it."""
    assert jobs.maintain_live_updates(app)[synced.id] == "on, no change yet"
    subs = [s for s in emulator.subscriptions() if s["notificationUrl"] == live_portal.rstrip("/") + NOTIFY]
    assert len(subs) == 1
    return subs[0]


def wait_until(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def actions(db, prefix="live_updates."):
    db.session.expire_all()
    return [e.action for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action.startswith(prefix))
                                                 .order_by(AuditEvent.id))]


def pending(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(ChangeNotification).where(ChangeNotification.processed_at.is_(None))).all()


def notification_runs(db):
    db.session.expire_all()
    return db.session.scalars(sa.select(SyncRun).where(SyncRun.trigger == "notification")).all()


def test_handshake_echoes_the_token_as_plain_text(client):
    """Graph's validation request gets its token back, exactly, as text/plain; nothing else is needed."""
    token = "Validation: Testing client application reachability for subscription Request-Id: <b>x</b>"
    response = client.post(NOTIFY, query_string={"validationToken": token})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == token
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_subscription_is_created_through_the_handshake_and_audited(app, db, subscribed, synced, live_portal):
    """With PUBLIC_URL set, the job subscribes to users (updated, deleted) with both URLs; the clientState is kept
    only as a digest."""
    assert subscribed["changeType"] == "updated,deleted" and subscribed["resource"] == "users"
    assert subscribed["lifecycleNotificationUrl"] == live_portal.rstrip("/") + "/api/live-updates/lifecycle"
    row = db.session.scalar(sa.select(LiveUpdateSubscription))
    assert row.subscription_id == subscribed["id"] and row.status == "on"
    assert row.client_state_digest != subscribed["clientState"] and len(row.client_state_digest) == 64
    assert actions(db) == ["live_updates.subscribed"]


def _post(client, sub, client_state, object_id, change_type="updated"):
    body = {"value": [{"subscriptionId": sub["id"], "clientState": client_state, "changeType": change_type,
                       "resource": f"Users/{object_id}", "tenantId": sub.get("tenantId", ""),
                       "resourceData": {"@odata.type": "#Microsoft.Graph.User", "@odata.id": f"Users/{object_id}",
                                        "id": object_id}, "subscriptionExpirationDateTime": sub["expirationDateTime"]}]}
    return client.post(NOTIFY, data=json.dumps(body), content_type="application/json")


@pytest.mark.settings(LIVE_UPDATES_KICK="none")
def test_wrong_client_state_is_ignored(app, db, client, subscribed, new_user):
    """A notification without the right clientState is answered 202 like any other, and nothing is stored."""
    user = new_user()
    forged = _post(client, subscribed, "guessed-state", user["id"])
    assert forged.status_code == 202 and pending(db) == []
    assert _post(client, subscribed, subscribed["clientState"], user["id"]).status_code == 202
    assert [row.object_id for row in pending(db)] == [user["id"]]


@pytest.mark.settings(LIVE_UPDATES_KICK="none")
def test_the_payload_is_never_trusted(app, db, client, subscribed, synced, emulator):
    """A genuine-looking "deleted" for an active user only triggers a delta: Graph says nothing changed, so the
    requester stays active."""
    person = emulator.info["demo_users"][1]
    assert _post(client, subscribed, subscribed["clientState"], person["id"], "deleted").status_code == 202
    assert jobs.process_change_notifications(app) == 1
    requester = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == person["id"]))
    assert requester.status == "active" and notification_runs(db)[0].status == "succeeded"


@pytest.mark.settings(LIVE_UPDATES_MAX_BYTES=2000, RATELIMIT_LIVE_UPDATES="3 per minute")
def test_size_and_rate_limits(client):
    """A body over the limit is 413 before it is read; the fourth POST in a minute is 429."""
    big = client.post(NOTIFY, data=json.dumps({"value": [{"x": "y" * 3000}]}), content_type="application/json")
    assert big.status_code == 413
    assert client.post(NOTIFY, data="{}", content_type="application/json").status_code == 400
    assert client.post(NOTIFY, data='{"value": []}', content_type="application/json").status_code == 202
    assert client.post(NOTIFY, data='{"value": []}', content_type="application/json").status_code == 429


def test_a_disabled_user_is_signed_out_within_seconds(app, db, subscribed, synced, emulator, new_user):
    """The emulator notifies, the webhook stores and kicks the runner, a delta deactivates the requester and their
    device session ends: the next request goes to the sign-in page with the reason."""
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    browser = app.test_client()
    assert sso.sign_in(browser, synced, user["userPrincipalName"], PASSWORD).headers["Location"] == "/home"
    began = time.monotonic()
    emulator.update_user(user["id"], accountEnabled=False)

    def ended():
        db.session.expire_all()
        return db.session.scalar(sa.select(DeviceSession.end_reason).where(DeviceSession.ended_at.is_not(None)))
    assert wait_until(ended) and time.monotonic() - began < 5
    assert ended() == "account_disabled"
    response = browser.get("/home")
    assert response.status_code == 302 and "reason=disabled" in response.headers["Location"]
    status = live_updates.status_text(live_updates.subscription_of(synced.id), app.config["PUBLIC_URL"])
    assert status.startswith("on, last change ") and status.endswith(" s ago")


@pytest.mark.settings(LIVE_UPDATES_KICK="none")
def test_duplicates_are_processed_once(app, db, subscribed, synced, emulator, new_user):
    """Graph delivering the same notification twice leaves one pending row and one delta run."""
    user = new_user()
    wait_until(lambda: len(pending(db)) == 1)
    jobs.process_change_notifications(app)
    emulator.set_notification_faults(duplicate_rate=1.0)
    since = time.time()
    emulator.update_user(user["id"], jobTitle="Twice told")
    assert wait_until(lambda: len([d for d in emulator.notifications(since) if d["status"] == 202]) == 2)
    assert [row.object_id for row in pending(db)] == [user["id"]]
    runs_before = len(notification_runs(db))
    assert jobs.process_change_notifications(app) == 1
    assert jobs.process_change_notifications(app) == 0
    assert len(notification_runs(db)) == runs_before + 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(Requester.job_title).where(Requester.entra_object_id == user["id"])) == "Twice told"


def test_a_burst_of_1000_changes_becomes_a_few_deltas(app, db, subscribed, synced, emulator, new_user):
    """1,000 changes to 20 people, as fast as the control API takes them (8 at a time), end in a handful of delta
    runs, and every requester ends with the directory's last value."""
    users = [new_user() for _ in range(20)]
    assert wait_until(lambda: pending(db) == [] and len(notification_runs(db)) >= 1, timeout=20)
    runs_before = len(notification_runs(db))
    def change(start):
        for index in range(start, 1000, 8):
            emulator.update_user(users[index % 20]["id"], jobTitle=f"Title {index}")
    threads = [threading.Thread(target=change, args=(start,)) for start in range(8)]
    burst = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    burst = time.monotonic() - burst

    final = {u["id"]: emulator.user(u["id"])["props"]["jobTitle"] for u in users}

    def settled():
        names = dict(db.session.execute(sa.select(Requester.entra_object_id, Requester.job_title).where(
            Requester.entra_object_id.in_(list(final)))).all())
        return not pending(db) and names == final
    assert wait_until(settled, timeout=30)
    runs = len(notification_runs(db)) - runs_before
    # At most one delta run per LIVE_UPDATES_MAX_WAIT_SECONDS while the burst lasts, and one for its tail.
    assert 1 <= runs <= burst / app.config["LIVE_UPDATES_MAX_WAIT_SECONDS"] + 3, (runs, burst)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChangeNotification)) < 1000


@pytest.mark.settings(LIVE_UPDATES_KICK="none")
def test_lifecycle_events(app, db, subscribed, synced, emulator):
    """reauthorizationRequired is answered with reauthorize; missed runs a delta; subscriptionRemoved makes a new
    subscription and runs a delta: each audited."""
    emulator.send_lifecycle_event(subscribed["id"], "reauthorizationRequired")
    assert wait_until(lambda: len(pending(db)) == 1)
    jobs.process_change_notifications(app)
    assert emulator.subscriptions()[0]["needsReauthorization"] is False
    assert actions(db)[-1] == "live_updates.reauthorized"

    emulator.send_lifecycle_event(subscribed["id"], "missed")
    assert wait_until(lambda: len(pending(db)) == 1)
    assert jobs.process_change_notifications(app) == 1
    assert actions(db)[-1] == "live_updates.resynced" and len(notification_runs(db)) == 1

    emulator.send_lifecycle_event(subscribed["id"], "subscriptionRemoved")
    assert wait_until(lambda: len(pending(db)) == 1)
    assert jobs.process_change_notifications(app) == 1
    assert actions(db)[-2:] == ["live_updates.subscribed", "live_updates.resynced"]
    fresh = emulator.subscriptions()
    assert len(fresh) == 1 and fresh[0]["id"] != subscribed["id"]
    assert db.session.scalar(sa.select(LiveUpdateSubscription.subscription_id)) == fresh[0]["id"]


def test_renewal_with_a_frozen_clock(app, db, subscribed, synced, emulator):
    """Nothing happens while more than a day is left; with less, the job renews (PATCH) and audits it."""
    now = datetime.now(UTC)
    jobs.maintain_live_updates(app, now=now + timedelta(hours=1))
    assert actions(db) == ["live_updates.subscribed"]
    later = now + SUBSCRIPTION_LIFETIME - timedelta(hours=20)
    jobs.maintain_live_updates(app, now=later)
    assert actions(db) == ["live_updates.subscribed", "live_updates.renewed"]
    renewed = datetime.fromisoformat(emulator.subscriptions()[0]["expirationDateTime"])
    assert abs((renewed - (later + SUBSCRIPTION_LIFETIME)).total_seconds()) < 2
    db.session.expire_all()
    assert db.session.scalar(sa.select(LiveUpdateSubscription.expires_at)) == renewed


def test_an_expired_subscription_is_made_again(app, db, subscribed, synced, emulator):
    """Past its expiry the dashboard says so, and the next job run subscribes again."""
    emulator.expire_subscription(subscribed["id"])
    after = datetime.fromisoformat(subscribed["expirationDateTime"]) + timedelta(minutes=1)
    row = live_updates.subscription_of(synced.id)
    assert live_updates.status_text(row, app.config["PUBLIC_URL"], after) == "off: subscription expired"
    jobs.maintain_live_updates(app, now=after)
    assert actions(db)[-1] == "live_updates.subscribed" and emulator.subscriptions()[0]["id"] != subscribed["id"]


def test_fallback_when_the_endpoint_is_unreachable(app, db, synced, emulator):
    """PUBLIC_URL nobody answers on: Graph refuses the subscription, live updates are off with the reason, and the
    delta sync keeps its usual interval (it only grows while notifications flow)."""
    app.config["PUBLIC_URL"] = "http://127.0.0.1:9/"
    status = jobs.maintain_live_updates(app)[synced.id]
    assert status == "off: validation failed" and actions(db) == ["live_updates.failed"]
    base = timedelta(minutes=60)
    assert live_updates.polling_interval(synced.id, base, 4, datetime.now(UTC)) == base
    app.config["PUBLIC_URL"] = None
    assert jobs.maintain_live_updates(app)[synced.id] == "off: no public URL (set PUBLIC_URL)"


def test_polling_slows_while_healthy(app, db, subscribed, synced):
    """With notifications flowing, the delta sync runs LIVE_UPDATES_POLL_FACTOR times less often."""
    base = timedelta(minutes=60)
    assert live_updates.polling_interval(synced.id, base, 4, datetime.now(UTC)) == base * 4
    synced.last_sync_at = datetime.now(UTC) - timedelta(minutes=90)
    db.session.commit()
    assert jobs.queue_due_syncs(app) == []


def test_dashboard_and_integration_page_say_why_off_or_on(app, db, client, login_as, synced, live_portal, emulator):
    """Without a subscription yet the dashboard says so; once subscribed it says on; the integration page's
    checklist says what live updates need."""
    login_as("admin")
    app.config["PUBLIC_URL"] = None
    assert "live updates: off: no public URL (set PUBLIC_URL)" in client.get("/admin/").get_data(as_text=True)
    app.config["PUBLIC_URL"] = live_portal
    jobs.maintain_live_updates(app)
    assert "live updates: on, no change yet" in client.get("/admin/").get_data(as_text=True)
    page = client.get(f"/admin/integrations/{synced.id}").get_data(as_text=True)
    assert "need\n        <code>PUBLIC_URL</code>" in page and "Now: live updates: on, no change yet." in page


@pytest.mark.settings(LIVE_UPDATES_KICK="none")
def test_uninstall_forgets_the_client_state(app, db, client, subscribed, synced, new_user):
    """After uninstall, notifications still on their way until the subscription lapses are ignored."""
    from portal import integration_lifecycle, signals

    integration_lifecycle.uninstall(synced, synced.name, actor=signals.SYSTEM)
    user = new_user()
    assert _post(client, subscribed, subscribed["clientState"], user["id"]).status_code == 202
    assert pending(db) == []
    assert live_updates.status_for(synced.id, app.config["PUBLIC_URL"]) == "off: the integration is uninstalled"
