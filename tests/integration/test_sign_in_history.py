"""Wrong passwords typed at Microsoft reach Frontdesk through Entra's sign-in logs: the import (idempotent, with an
overlap, through throttling), the lockout policies, no cross-account lockout, and what admins see."""
from datetime import UTC, datetime, timedelta

import pytest
import requests as http
import sqlalchemy as sa

from portal import jobs, policy, signals
from portal.directory.runs import start_run
from portal.models import AuditEvent, Integration, Requester, SignInEvent
from tests import sso
from tests.conftest import ADMIN_PASSWORD, admin_sign_in, csrf_from
from tests.msft import submit_login

PASSWORD = "Start-Password-1"


@pytest.fixture
def person(app, db, synced, new_user, emulator):
    """A synced requester, and an emulator log with nothing in it yet."""
    emulator.clear_sign_ins()
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    user["requester"] = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
    return user


def imported(db, requester_id=None):
    query = sa.select(sa.func.count()).select_from(SignInEvent)
    return db.session.scalar(query.where(SignInEvent.requester_id == requester_id) if requester_id else query)


def fresh(db, requester):
    db.session.expire_all()
    return db.session.get(Requester, requester.id)


def test_wrong_passwords_on_microsofts_page_lock_the_requester(app, db, synced, person, admin):
    """Five real wrong passwords on the emulator's sign-in page: one import stores them with their reason, locks the
    requester in Frontdesk (audited, from the logs) and the admin page shows five failures as 'Wrong password'."""
    browser = http.Session()
    for _ in range(5):
        start = sso.begin(app.test_client(), synced)
        page = browser.get(start.headers["Location"])
        assert "Your account or password is incorrect" in submit_login(
            browser, page, person["userPrincipalName"], "Not-The-Password-9").text
    results = jobs.import_sign_ins(app)
    assert results[synced.id].imported == 5 and results[synced.id].locked == [person["requester"].id]
    requester = fresh(db, person["requester"])
    assert requester.locked_until > datetime.now(UTC)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "requester.locked_out"))
    assert event.detail["source"] == "microsoft_sign_in_logs" and event.reason == "5 wrong passwords at Microsoft"
    admin_client = app.test_client()
    assert admin_sign_in(admin_client, admin.email, ADMIN_PASSWORD).status_code == 302
    page = admin_client.get(f"/admin/requesters/{requester.id}").get_data(as_text=True)
    assert page.count("Microsoft · Wrong password") == 5
    assert "Wrong password" in admin_client.get("/admin/sign-ins?result=failure").get_data(as_text=True)


def test_import_twice_imports_nothing_twice_and_catches_late_entries(app, db, synced, person, emulator):
    """The second run adds nothing; an entry that arrives late (dated before the watermark, within the overlap) is
    still imported; the watermark follows the newest entry."""
    emulator.add_sign_in(person["id"], error_code=50126, count=2, appId=synced.client_id)
    assert jobs.import_sign_ins(app)[synced.id].imported == 2
    assert jobs.import_sign_ins(app)[synced.id].imported == 0
    db.session.expire_all()
    watermark = db.session.get(Integration, synced.id).sign_in_watermark
    late = (watermark - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    emulator.add_sign_in(person["id"], error_code=50126, appId=synced.client_id, createdDateTime=late)
    assert jobs.import_sign_ins(app)[synced.id].imported == 1
    assert imported(db, person["requester"].id) == 3
    db.session.expire_all()
    assert db.session.get(Integration, synced.id).sign_in_watermark == watermark


def test_throttling_is_retried_and_nothing_is_lost(app, db, synced, person, emulator):
    """With Graph answering 429 often, the import still stores every entry exactly once."""
    emulator.add_sign_in(person["id"], error_code=50126, count=30, appId=synced.client_id)
    emulator.set_faults(error_rates={"429": 0.3}, seed=7)
    try:
        jobs.import_sign_ins(app)
    finally:
        emulator.clear_faults()
    jobs.import_sign_ins(app)
    assert imported(db, person["requester"].id) == 30


def test_only_failures_microsoft_attributes_to_the_account_count(app, db, synced, person, emulator, new_user):
    """Someone typing the victim's name wrongly (unknown user, no id) or another app's failures lock nobody; four
    wrong passwords are one short of the default five."""
    emulator.add_sign_in(error_code=50034, count=10, appId=synced.client_id,
                         userPrincipalName=person["userPrincipalName"] + "x")
    emulator.add_sign_in(person["id"], error_code=50126, count=10, appId="00000000-0000-0000-0000-00000000beef")
    emulator.add_sign_in(person["id"], error_code=50126, count=4, appId=synced.client_id)
    jobs.import_sign_ins(app)
    assert fresh(db, person["requester"]).locked_until is None
    assert imported(db, person["requester"].id) == 4


def test_mirror_and_off_policies(app, db, synced, person, emulator, client):
    """Mirror shows Microsoft's own lock (and the sign-in page says so) without a Frontdesk lock; off does nothing."""
    policy.set_values({"microsoft_lockout_mode": "mirror"}, actor=signals.SYSTEM)
    emulator.add_sign_in(person["id"], error_code=50126, count=9, appId=synced.client_id)
    emulator.add_sign_in(person["id"], error_code=50053, appId=synced.client_id)
    jobs.import_sign_ins(app)
    requester = fresh(db, person["requester"])
    assert requester.locked_until is None and requester.microsoft_locked_until > datetime.now(UTC)
    from tests.conftest import csrf_from

    token = csrf_from(client.get("/login").get_data(as_text=True))
    notice = client.post(f"/auth/start/{synced.id}", data={"csrf_token": token, "login_hint": person["mail"]})
    assert notice.status_code == 423 and "locked at Microsoft" in notice.get_data(as_text=True)
    policy.set_values({"microsoft_lockout_mode": "off"}, actor=signals.SYSTEM)
    other = person["requester"].id
    emulator.add_sign_in(person["id"], error_code=50126, count=9, appId=synced.client_id)
    jobs.import_sign_ins(app)
    assert fresh(db, db.session.get(Requester, other)).locked_until is None


def test_count_policy_with_a_frozen_clock(app, db, synced, person, emulator):
    """Failures older than the window do not count; a lock, once it ends, does not re-count the same failures."""
    now = datetime.now(UTC)
    old = (now - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    emulator.add_sign_in(person["id"], error_code=50126, count=5, appId=synced.client_id, createdDateTime=old)
    jobs.import_sign_ins(app, now=now)
    assert fresh(db, person["requester"]).locked_until is None  # 20 minutes ago is outside the 15-minute window
    emulator.add_sign_in(person["id"], error_code=50126, count=5, appId=synced.client_id)
    jobs.import_sign_ins(app, now=now + timedelta(seconds=5))
    requester = fresh(db, person["requester"])
    assert requester.locked_until == now + timedelta(seconds=5) + timedelta(minutes=15)
    after = requester.locked_until + timedelta(seconds=1)
    emulator.add_sign_in(person["id"], error_code=0, appId=synced.client_id)
    jobs.import_sign_ins(app, now=after)
    assert fresh(db, person["requester"]).lockout_count == 1  # not locked again by the same five


def test_no_licence_and_no_permission_are_explained_and_nothing_breaks(app, db, synced, person, emulator, login_as,
                                                                        client):
    """Without P1/P2 the import records why, the integration page says so, and the integration stays verified."""
    emulator.sign_in_settings(premium=False)
    try:
        assert jobs.import_sign_ins(app)[synced.id].status == "no_licence"
    finally:
        emulator.sign_in_settings(premium=True)
    db.session.expire_all()
    integration = db.session.get(Integration, synced.id)
    assert integration.status == "verified" and "Entra ID P1 or P2" in integration.sign_in_note
    login_as("admin")
    page = client.get(f"/admin/integrations/{synced.id}").get_data(as_text=True)
    assert 'id="sign-in-import-state"' in page and "Entra ID P1 or P2" in page
    assert jobs.import_sign_ins(app)[synced.id].status == "ok"
    db.session.expire_all()
    assert db.session.get(Integration, synced.id).sign_in_note is None


def test_a_future_dated_entry_never_blinds_the_import(app, db, synced, person, emulator):
    """An entry dated 30 days ahead is stored but does not move the watermark, so later failures still arrive."""
    ahead = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    emulator.add_sign_in(person["id"], error_code=50126, appId=synced.client_id, createdDateTime=ahead)
    jobs.import_sign_ins(app)
    db.session.expire_all()
    assert db.session.get(Integration, synced.id).sign_in_watermark is None  # the only entry is in the future
    emulator.add_sign_in(person["id"], error_code=50126, count=5, appId=synced.client_id)
    assert jobs.import_sign_ins(app)[synced.id].locked == [person["requester"].id]


def test_extreme_dates_in_filters_are_a_clear_error(app, db, login_as, client):
    """Year 1 with an offset, or year 9999 behind UTC, gets the 'not a date' message, never a 500."""
    login_as("admin")
    for url in ("/admin/sign-ins?since=0001-01-01T00:00:00%2B05:00", "/admin/sign-ins?until=9999-12-31T23:59:59-05:00",
                "/admin/audit?since=0001-01-01T00:00:00%2B05:00", "/admin/sign-ins/export.csv?since=0001-01-01T00:00:00%2B05:00"):
        response = client.get(url)
        assert response.status_code == 400 and "is not a date or time" in response.get_data(as_text=True), url


def test_a_stranger_cannot_lock_the_owner_out_of_their_own_browser(app, db, synced, person, emulator):
    """Wrong passwords typed elsewhere lock the account for unknown browsers only: the browser the person signed in
    from before still gets in (audited as a known device), the lock stays for everyone else, and a forged cookie
    counts for nothing."""
    own = app.test_client()
    assert sso.sign_in(own, synced, person["userPrincipalName"], PASSWORD).headers["Location"] == "/home"
    assert own.get_cookie("frontdesk_device") is not None
    emulator.add_sign_in(person["id"], error_code=50126, count=5, appId=synced.client_id, ipAddress="203.0.113.66")
    jobs.import_sign_ins(app)
    until = fresh(db, person["requester"]).locked_until
    assert until > datetime.now(UTC)
    own.post("/logout", data={"csrf_token": csrf_from(own.get("/home").get_data(as_text=True))})
    assert sso.sign_in(own, synced, person["userPrincipalName"], PASSWORD).headers["Location"] == "/home"
    assert fresh(db, person["requester"]).locked_until == until  # not lifted for anyone else
    signed = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "requester.sign_in")
                                .order_by(AuditEvent.id.desc())).first()
    assert signed.detail.get("known_device") is True
    stranger = app.test_client()
    stranger.set_cookie("frontdesk_device", "forged.value.here")
    refused = sso.sign_in(stranger, synced, person["userPrincipalName"], PASSWORD)
    assert 'data-failure="locked"' in refused.get_data(as_text=True)
