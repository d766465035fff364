"""Pause, resume and uninstall an integration, from the page and the CLI."""
import sqlalchemy as sa

from portal import jobs, signals
from portal.directory.runs import start_run
from portal.models import ActionRun, AuditEvent, Integration, Requester, SyncRun, Ticket
from portal.workflows import admin_service
from tests import sso
from tests.conftest import csrf_from

PASSWORD = "Start-Password-1"


def post(client, url, data=None, page=None):
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data=dict(data or {}, csrf_token=token))


def test_pause_stops_syncs_actions_and_sign_in_then_resume_runs_them(app, db, synced, new_user, emulator, catalogue,
                                                                     client, login_as):
    """Paused: nothing is queued, a manual sync is refused, an action waits, the sign-in button is gone; resumed: the
    waiting action runs."""
    admin_service.save(None, "Leavers", [catalogue["Leaver: disable account"].id], True,
                       [{"integration_id": synced.id, "action": "disable", "target": "requester"}], actor=signals.SYSTEM)
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    person = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
    login_as("admin")
    page = f"/admin/integrations/{synced.id}"
    assert post(client, f"{page}/pause", page=page).status_code == 302
    db.session.expire_all()
    assert jobs.queue_due_syncs(app) == []
    refused = post(client, f"{page}/sync", {"mode": "delta"}, page=f"{page}/sync")
    assert "paused: resume it first" in client.get(refused.headers["Location"]).get_data(as_text=True)
    from portal import tickets

    app.config["ACTION_KICK"] = "none"
    ticket = tickets.create(person, catalogue["Leaver: disable account"].id, "Leaving", "")
    jobs.run_actions(app)
    assert db.session.scalar(sa.select(ActionRun.status).where(ActionRun.ticket_id == ticket.id)) == "pending"
    assert emulator.user(user["id"])["props"]["accountEnabled"] is True
    assert "Sign in with Microsoft" not in app.test_client().get("/login").get_data(as_text=True)
    visitor = app.test_client()  # an old sign-in page still open in a tab: its button is refused
    start = visitor.post(f"/auth/start/{synced.id}", data={"csrf_token": csrf_from(visitor.get("/help").get_data(as_text=True))})
    assert 'data-failure="integration_unavailable"' in start.get_data(as_text=True)
    assert post(client, f"{page}/resume", page=page).status_code == 302
    jobs.run_actions(app)
    assert emulator.user(user["id"])["props"]["accountEnabled"] is False
    actions = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target_type == "integration")))
    assert {"integration.paused", "integration.resumed"} <= actions


def test_pause_may_keep_sign_in(app, db, synced, new_user, client, login_as):
    """Ticking 'keep signing in' leaves the button and the sign-in working while syncs wait."""
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    login_as("admin")
    page = f"/admin/integrations/{synced.id}"
    post(client, f"{page}/pause", {"keep_sign_in": "on"}, page=page)
    assert "Sign in with Microsoft" in app.test_client().get("/login").get_data(as_text=True)
    assert sso.sign_in(app.test_client(), synced, user["userPrincipalName"], PASSWORD).headers["Location"] == "/home"


def test_uninstall_needs_the_name_and_keeps_requesters_detached(app, db, synced, new_user, catalogue, client,
                                                                login_as, runner, emulator):
    """A wrong name changes nothing; the right one wipes the secret, deactivates and detaches the requesters (their
    tickets stay), ends their sessions, removes the button and lets the tenant be installed again."""
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    device = app.test_client()
    sso.sign_in(device, synced, user["userPrincipalName"], PASSWORD)
    person = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
    from portal import tickets

    ticket = tickets.create(person, catalogue["General request"].id, "Printer", "")
    login_as("admin")
    page = f"/admin/integrations/{synced.id}"
    wrong = post(client, f"{page}/uninstall", {"confirm_name": "contoso staff"}, page=page)
    assert "Type the integration&#39;s name" in client.get(wrong.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Integration, synced.id).status == "verified"
    assert post(client, f"{page}/uninstall", {"confirm_name": "Contoso staff"}, page=page).status_code == 302
    db.session.expire_all()
    gone = db.session.get(Integration, synced.id)
    assert gone.status == "uninstalled" and gone.secret_encrypted == b""
    kept = db.session.get(Requester, person.id)
    assert kept.integration_id is None and kept.status == "disabled" and kept.entra_object_id == user["id"]
    assert db.session.get(Ticket, ticket.id).requester_id == person.id
    assert device.get("/home").status_code == 302
    assert client.get(page).status_code == 404
    assert "Sign in with Microsoft" not in app.test_client().get("/login").get_data(as_text=True)
    creds = emulator.app()
    again = runner.invoke(args=["integration", "add", "--name", "Contoso again", "--tenant", emulator.tenant_id,
                                "--client-id", creds["client_id"], "--secret-expires", "2030-01-01"],
                          input=creds["client_secret"] + "\n")
    assert again.exit_code == 0, again.output
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "integration.uninstalled"))


def test_the_cli_pauses_resumes_and_uninstalls(app, db, synced, runner):
    """The same three from the command line, with the name check."""
    assert runner.invoke(args=["integration", "pause", str(synced.id), "--keep-sign-in"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Integration, synced.id).paused_at is not None
    assert runner.invoke(args=["integration", "resume", str(synced.id)]).exit_code == 0
    bad = runner.invoke(args=["integration", "uninstall", str(synced.id), "--confirm-name", "nope"])
    assert bad.exit_code != 0 and "exactly" in bad.output
    good = runner.invoke(args=["integration", "uninstall", str(synced.id), "--confirm-name", "Contoso staff"])
    assert good.exit_code == 0 and "uninstalled" in good.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncRun).where(SyncRun.status == "queued")) == 0
