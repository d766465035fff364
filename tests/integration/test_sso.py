"""Requester sign-in with Microsoft through the emulator: the happy path and every failure page."""
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal import jobs
from portal.directory.runs import start_run
from portal.models import AuditEvent, Requester
from tests import sso
from tests.conftest import csrf_from

PASSWORD = "Start-Password-1"


def resync(app, integration):
    start_run(integration, "delta", "manual")
    jobs.run_queued_syncs(app)


@pytest.fixture
def person(app, synced, new_user):
    """A Microsoft user who is a synced, active requester."""
    user = new_user()
    resync(app, synced)
    return user


def failure_kind(response) -> str:
    body = response.get_data(as_text=True)
    marker = 'data-failure="'
    return body[body.index(marker) + len(marker):].split('"', 1)[0] if marker in body else ""


def reasons(db):
    return [e.reason for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "requester.sign_in_failed"))]


def test_happy_path_signs_in_rotates_session_and_audits(client, app, synced, person, db):
    """Microsoft sign-in lands on the requester home; the session id changes; no token is kept."""
    client.get("/login")
    before = client.get_cookie("frontdesk_session").value
    response = sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert "Hello, User" in client.get("/home").get_data(as_text=True)
    assert client.get_cookie("frontdesk_session").value != before
    with client.session_transaction() as stored:
        assert stored["sso"]["oid"] == person["id"] and "auth_flows" not in stored
        assert "eyJ" not in str(dict(stored))  # no JWT (id, access or refresh token) is kept in the session
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "requester.sign_in"))
    assert event.target_label == person["displayName"]


def test_authorize_request_uses_pkce_state_nonce_and_form_post(client, synced):
    """The redirect to Microsoft carries PKCE S256, state, nonce and response_mode=form_post."""
    location = sso.begin(client, synced).headers["Location"]
    for part in ("code_challenge_method=S256", "state=", "nonce=", "response_mode=form_post", "scope=User.Read"):
        assert part in location
    assert "redirect_uri=http://localhost/auth/callback" in location.replace("%3A", ":").replace("%2F", "/")


def test_safe_next_is_followed_and_open_redirect_refused(client, synced, person):
    """A local next is honoured after sign-in; an absolute one falls back to home."""
    assert sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD, "/home?x=1").headers["Location"] == "/home?x=1"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/home").get_data(as_text=True))})
    evil = sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD, "https://evil.example/")
    assert evil.headers["Location"] == "/home"


@pytest.mark.parametrize("setting, kind", [
    ({"action": "cancel"}, "cancelled"),
    ({"app": {"assignment_required": True}}, "not_assigned"),
    ({"app": {"user_consent": "consent_required"}}, "consent_required"),
    ({"app": {"user_consent": "interaction_required"}}, "interaction_required"),
])
def test_microsoft_errors_get_their_page(client, synced, person, emulator, db, setting, kind):
    """Cancel, not assigned, consent and MFA answers each land on their own page and are audited."""
    client_id = emulator.app()["client_id"]
    if "app" in setting:
        emulator.update_app(client_id, **setting["app"])
    try:
        start = sso.begin(client, synced)
        fields, _ = sso.microsoft_answer(start.headers["Location"], person["userPrincipalName"], PASSWORD,
                                         action=setting.get("action", "signin"))
    finally:
        emulator.update_app(client_id, assignment_required=False, user_consent="granted")
    response = sso.finish(client, fields)
    assert failure_kind(response) == kind and response.status_code in (401, 403)
    assert 'id="error-reference"' in response.get_data(as_text=True)
    assert reasons(db) == [kind]


def test_disabled_and_locked_at_microsoft(client, synced, new_user, emulator, app):
    """AADSTS50057 (disabled) and AADSTS50053 (smart lockout) each get their page."""
    disabled = new_user(accountEnabled=False)
    start = sso.begin(client, synced)
    fields, _ = sso.microsoft_answer(start.headers["Location"], disabled["userPrincipalName"], PASSWORD)
    assert failure_kind(sso.finish(client, fields)) == "disabled_at_microsoft"
    locked = new_user()
    start = sso.begin(client, synced)
    import requests

    browser = requests.Session()
    for _ in range(9):
        fields, page = sso.microsoft_answer(start.headers["Location"], locked["userPrincipalName"], "wrong", browser)
        assert fields is None and "AADSTS50126" in page.text
    fields, _ = sso.microsoft_answer(start.headers["Location"], locked["userPrincipalName"], "wrong", browser)
    assert failure_kind(sso.finish(client, fields)) == "locked_at_microsoft"


def test_state_mismatch_replay_and_missing_code(client, synced, person, app):
    """Unknown state, a replayed sealed callback and an answer without a code are refused with their pages."""
    start = sso.begin(client, synced)
    fields, _ = sso.microsoft_answer(start.headers["Location"], person["userPrincipalName"], PASSWORD)
    forged = dict(fields, state="not-our-state")
    assert failure_kind(sso.finish(client, forged)) == "state_mismatch"
    bounced = client.post("/auth/callback", data=fields)
    assert client.get(bounced.headers["Location"]).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/home").get_data(as_text=True))})
    replay = client.get(bounced.headers["Location"])
    assert failure_kind(replay) == "state_mismatch"
    tampered = client.get("/auth/callback?r=" + bounced.headers["Location"].split("r=")[1][:-4] + "AAAA")
    assert failure_kind(tampered) == "expired_callback"
    start = sso.begin(client, synced)
    state = start.headers["Location"].split("state=")[1].split("&")[0]
    assert failure_kind(sso.finish(client, {"state": state})) == "missing_code"


def test_expired_sealed_callback(client, synced, person, app, monkeypatch):
    """A sealed answer older than two minutes is refused."""
    from portal.auth import sso as service

    start = sso.begin(client, synced)
    fields, _ = sso.microsoft_answer(start.headers["Location"], person["userPrincipalName"], PASSWORD)
    bounced = client.post("/auth/callback", data=fields)
    monkeypatch.setattr(service, "CALLBACK_TTL", -1)
    assert failure_kind(client.get(bounced.headers["Location"])) == "expired_callback"


def test_nonce_mismatch_is_refused(client, synced, person, db):
    """An id token whose nonce does not match the flow is not trusted, and the audit says the nonce failed."""
    start = sso.begin(client, synced)
    with client.session_transaction() as stored:
        flows = stored["auth_flows"]
        for value in flows.values():
            value["flow"]["nonce"] = "someone-elses-nonce"
        stored["auth_flows"] = flows
    fields, _ = sso.microsoft_answer(start.headers["Location"], person["userPrincipalName"], PASSWORD)
    assert failure_kind(sso.finish(client, fields)) == "token_nonce"
    assert reasons(db) == ["token_nonce"]


def test_unsynced_user_is_told_to_ask_for_sync(client, synced, new_user, db):
    """A Microsoft user not yet synced is told the admin must sync them."""
    stranger = new_user()
    response = sso.sign_in(client, synced, stranger["userPrincipalName"], PASSWORD)
    assert failure_kind(response) == "not_synced" and "admin must sync you" in response.get_data(as_text=True)


def test_disabled_or_deleted_requester_is_refused(client, app, synced, person, emulator, db):
    """After sync marks the requester disabled (or deleted), the portal refuses the sign-in."""
    requester = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == person["id"]))
    requester.status = "disabled"
    db.session.commit()
    assert failure_kind(sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD)) == "portal_disabled"
    requester.status = "deleted"
    db.session.commit()
    assert failure_kind(sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD)) == "portal_deleted"


def test_wrong_tenant_is_refused(client, synced, person, db):
    """An id token from another tenant than the integration's is refused."""
    synced.directory_tenant_id = "00000000-0000-0000-0000-0000000000aa"
    db.session.commit()
    assert failure_kind(sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD)) == "wrong_tenant"


def test_portal_lockout_says_until_when_and_admin_unlocks(client, app, synced, person, db, login_as, emulator):
    """A refused sign-in (Microsoft accepted the password) never counts; five wrong passwords at Microsoft, read
    from Entra's sign-in logs, lock the requester; the page says until when; an admin unlock lets them in."""
    from portal import jobs

    requester = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == person["id"]))
    requester.status = "disabled"
    db.session.commit()
    for _ in range(6):
        assert failure_kind(sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD)) == "portal_disabled"
    db.session.refresh(requester)
    assert requester.locked_until is None and requester.failed_attempts == 0
    requester.status = "active"
    db.session.commit()
    emulator.add_sign_in(person["id"], error_code=50126, count=5, appId=synced.client_id)
    jobs.import_sign_ins(app)
    db.session.refresh(requester)
    assert requester.locked_until is not None
    locked = sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD)
    assert failure_kind(locked) == "locked" and "The lock lifts at" in locked.get_data(as_text=True)
    db.session.refresh(requester)
    until = requester.locked_until
    sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD)
    db.session.refresh(requester)
    assert requester.locked_until == until  # attempts while locked do not extend the lock
    admin = login_as("admin")
    assert admin
    page = client.get(f"/admin/requesters/{requester.id}").get_data(as_text=True)
    assert "Locked until" in page
    client.post(f"/admin/requesters/{requester.id}/unlock", data={"csrf_token": csrf_from(page)})
    client.post("/admin/logout", data={"csrf_token": csrf_from(client.get("/admin/").get_data(as_text=True))})
    assert sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD).headers["Location"] == "/home"
    actions = [e.action for e in db.session.scalars(sa.select(AuditEvent))]
    assert "requester.locked_out" in actions and "requester.unlocked" in actions


def test_microsoft_unreachable_gives_retry_page(client, app, synced, person):
    """When the token endpoint cannot be reached, the person sees a friendly 503 retry page."""
    start = sso.begin(client, synced)
    fields, _ = sso.microsoft_answer(start.headers["Location"], person["userPrincipalName"], PASSWORD)
    from portal.entra import credentials

    credentials.forget_all_clients()
    app.config["ENTRA_AUTHORITY_HOST"] = "https://127.0.0.1:1"
    response = sso.finish(client, fields)
    assert response.status_code == 503 and failure_kind(response) == "unavailable"
    assert "Traceback" not in response.get_data(as_text=True)


def test_sign_out_goes_through_microsoft(client, synced, person, emulator):
    """Sign-out clears the session and redirects to Microsoft's end-session endpoint, then back."""
    sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD)
    response = client.post("/logout", data={"csrf_token": csrf_from(client.get("/home").get_data(as_text=True))})
    location = response.headers["Location"]
    assert location.startswith(emulator.info["login_base"]) and "/oauth2/v2.0/logout" in location
    assert "post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Fsigned-out" in location
    assert client.get("/home").status_code == 302


def test_lockout_maths_with_frozen_clock(app, synced, person, db):
    """Service level: five failures in the window lock for 15 min; the next lockout lasts 30."""
    from portal.auth import sso as service
    from portal.lockout import LockoutPolicy

    requester = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == person["id"]))
    t0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    for i in range(5):
        service.record_failure(service.SignInFailed("microsoft_error", requester=requester), LockoutPolicy(), t0 + timedelta(minutes=i))
    assert requester.locked_until == t0 + timedelta(minutes=4 + 15)
    t1 = requester.locked_until + timedelta(seconds=1)
    for i in range(5):
        service.record_failure(service.SignInFailed("microsoft_error", requester=requester), LockoutPolicy(), t1 + timedelta(seconds=i))
    assert requester.locked_until == t1 + timedelta(seconds=4) + timedelta(minutes=30)
