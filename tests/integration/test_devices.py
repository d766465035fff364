"""Device sessions: multi-device, revoke by user and admin, idle/absolute expiry, device limit, account events."""
import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import jobs, policy, signals
from portal.devices import registry
from portal.directory.runs import start_run
from portal.models import AuditEvent, DeviceSession, Requester
from tests import sso
from tests.conftest import csrf_from

PASSWORD = "Start-Password-1"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture
def person(app, synced, new_user):
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    return user


def device_client(app, user_agent):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


def sign_in(app, synced, person, user_agent=CHROME):
    client = device_client(app, user_agent)
    response = sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/home", response.get_data(as_text=True)[:300]
    return client


def set_policy(**values):
    policy.set_values(values, actor=signals.SYSTEM)


def test_two_devices_one_signs_the_other_out(app, synced, person, db):
    """Laptop and phone: My devices lists both; the laptop signs the phone out; the phone is refused and told why."""
    laptop, phone = sign_in(app, synced, person), sign_in(app, synced, person, IPHONE)
    page = laptop.get("/devices").get_data(as_text=True)
    assert "Chrome 131 on Windows 10" in page and "Mobile Safari 17 on iPhone" in page
    assert page.count("This device") == 1
    phone_device = db.session.scalar(sa.select(DeviceSession).where(DeviceSession.device_type == "mobile"))
    response = laptop.post(f"/devices/{phone_device.id}/sign-out", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    refused = phone.get("/home")
    assert refused.status_code == 302 and "reason=revoked" in refused.headers["Location"]
    assert "signed out from another device" in phone.get(refused.headers["Location"]).get_data(as_text=True)
    assert laptop.get("/home").status_code == 200
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "session.revoked"))
    assert event.reason == "revoked_by_user"


def test_sign_out_all_others_and_ownership(app, synced, person, new_user, db):
    """'Sign out all other devices' keeps this one; nobody can end someone else's device."""
    a, b, c = (sign_in(app, synced, person) for _ in range(3))
    page = a.get("/devices").get_data(as_text=True)
    a.post("/devices/sign-out-others", data={"csrf_token": csrf_from(page)})
    assert b.get("/home").status_code == 302 and c.get("/home").status_code == 302 and a.get("/home").status_code == 200
    other = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    stranger = sign_in(app, synced, other)
    mine = db.session.scalar(sa.select(DeviceSession.id).where(DeviceSession.ended_at.is_(None),
                                                               DeviceSession.requester_id != None)  # noqa: E711
                             .order_by(DeviceSession.id))
    response = stranger.post(f"/devices/{mine}/sign-out", data={"csrf_token": csrf_from(stranger.get('/devices').get_data(as_text=True))})
    assert response.status_code == 404 and a.get("/home").status_code == 200


def test_ending_other_devices_needs_a_fresh_sign_in(app, synced, person, db, monkeypatch):
    """Eleven minutes after sign-in, ending another device asks for a fresh sign-in first."""
    laptop, phone = sign_in(app, synced, person), sign_in(app, synced, person, IPHONE)
    page = laptop.get("/devices").get_data(as_text=True)
    later = registry.now() + timedelta(minutes=11)
    monkeypatch.setattr(registry, "now", lambda: later)
    response = laptop.post("/devices/sign-out-others", data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "sign in again" in response.get_data(as_text=True).lower()
    assert phone.get("/home").status_code == 200


def test_idle_timeout_with_frozen_clock(app, synced, person, db, monkeypatch):
    """31 minutes without a request: the next one is refused as idle and audited as expired."""
    client = sign_in(app, synced, person)
    later = registry.now() + timedelta(minutes=31)
    monkeypatch.setattr(registry, "now", lambda: later)
    response = client.get("/home")
    assert "reason=idle" in response.headers["Location"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "session.expired"))
    assert event.reason == "idle_timeout"


def test_absolute_lifetime_with_frozen_clock(app, synced, person, db, monkeypatch):
    """Active every 20 minutes, the session still ends after 12 hours."""
    client = sign_in(app, synced, person)
    start = registry.now()
    for minutes in range(20, 12 * 60, 20):
        monkeypatch.setattr(registry, "now", lambda m=minutes: start + timedelta(minutes=m))
        assert client.get("/home").status_code == 200, minutes
    monkeypatch.setattr(registry, "now", lambda: start + timedelta(hours=12, minutes=1))
    assert "reason=expired" in client.get("/home").headers["Location"]


def test_last_seen_written_at_most_once_a_minute(app, synced, person, db, monkeypatch):
    """Ten requests within a minute write last_seen zero times; one after a minute writes it once."""
    client = sign_in(app, synced, person)
    writes = []
    listener = lambda conn, cur, stmt, *a: writes.append(stmt) if stmt.startswith("UPDATE device_sessions") else None  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        for _ in range(10):
            client.get("/home")
        assert writes == []
        later = registry.now() + timedelta(seconds=61)
        monkeypatch.setattr(registry, "now", lambda: later)
        client.get("/home")
        client.get("/home")
        assert len(writes) == 1
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def test_device_limit_ends_the_oldest(app, synced, person, db):
    """At the limit the oldest session ends (reason replaced) and the person is told."""
    set_policy(session_max_devices=2)
    first, second = sign_in(app, synced, person), sign_in(app, synced, person)
    third = sign_in(app, synced, person)
    assert "signed out on your oldest device" in third.get("/home").get_data(as_text=True)
    assert "reason=replaced" in first.get("/home").headers["Location"]
    assert second.get("/home").status_code == 200


def test_device_limit_can_refuse_instead(app, synced, person, db):
    """In refuse mode the new sign-in gets the device-limit page and existing sessions stay."""
    set_policy(session_max_devices=1, session_limit_mode="refuse")
    first = sign_in(app, synced, person)
    client = device_client(app, IPHONE)
    response = sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD)
    assert response.status_code == 403 and 'data-failure="device_limit"' in response.get_data(as_text=True)
    assert first.get("/home").status_code == 200 and client.get("/home").status_code == 302


def test_admin_revokes_one_and_all_sessions(app, synced, person, db, login_as, client):
    """An admin ends a requester's session from Sessions, then all of a person's from their page."""
    a, b = sign_in(app, synced, person), sign_in(app, synced, person, IPHONE)
    login_as("admin")
    page = client.get("/admin/sessions?device_type=mobile").get_data(as_text=True)
    assert "Mobile Safari" in page and "Chrome 131" not in page
    mobile = db.session.scalar(sa.select(DeviceSession).where(DeviceSession.device_type == "mobile"))
    client.post(f"/admin/sessions/{mobile.id}/revoke", data={"csrf_token": csrf_from(page)})
    assert b.get("/home").status_code == 302 and a.get("/home").status_code == 200
    requester = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == person["id"]))
    detail = client.get(f"/admin/requesters/{requester.id}").get_data(as_text=True)
    assert "Sign-in history" in detail and "Chrome 131" in detail and "requester.sign_in" in detail
    client.post(f"/admin/requesters/{requester.id}/sessions/revoke", data={"csrf_token": csrf_from(detail)})
    assert a.get("/home").status_code == 302
    reasons = {e.reason for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "session.revoked"))}
    assert reasons == {"revoked_by_admin"}


def test_sync_deactivation_ends_sessions(app, synced, person, emulator, db):
    """When sync sees the user disabled in Entra, their sessions end at once."""
    client = sign_in(app, synced, person)
    emulator.update_user(person["id"], accountEnabled=False)
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    device = db.session.scalar(sa.select(DeviceSession))
    assert device.end_reason == "account_disabled"
    assert client.get("/home").status_code == 302


def test_session_id_is_stored_hashed(app, synced, person, db):
    """The table holds SHA-256 of the session id, never the id itself."""
    client = sign_in(app, synced, person)
    sid = client.get_cookie("frontdesk_session").value
    device = db.session.scalar(sa.select(DeviceSession))
    assert device.sid_hash == hashlib.sha256(sid.encode()).hexdigest() and sid not in str(device.__dict__)


def test_cleanup_ends_expired_and_drops_old_history(app, synced, person, db, monkeypatch):
    """The scheduled clean-up ends over-age sessions and deletes history past the retention."""
    sign_in(app, synced, person)
    later = registry.now() + timedelta(days=91)
    monkeypatch.setattr(registry, "now", lambda: later)
    assert jobs.clean_up_sessions(app) == (1, 0)
    monkeypatch.setattr(registry, "now", lambda: later + timedelta(days=91))
    assert jobs.clean_up_sessions(app) == (0, 1)


def test_admin_sign_in_creates_a_device_session(client, admin, login_as, db):
    """Admins get device sessions too."""
    login_as("admin")
    device = db.session.scalar(sa.select(DeviceSession))
    assert device.principal_type == "admin" and device.admin_id == admin.id
