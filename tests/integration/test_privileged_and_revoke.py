"""Entra admins refused up front, Revoke Sign-in Sessions, and Unlock of an account that was not locked, end to end
against the emulator."""
import pytest
import sqlalchemy as sa

from portal import jobs, signals
from portal.directory.runs import start_run
from portal.entra import credentials
from portal.exceptions import ValidationError
from portal.models import ActionRun, AuditEvent, DeviceSession, Requester, TicketEvent
from portal.workflows import admin_service
from tests import sso
from tests.integration.test_workflows import PASSWORD, raise_ticket, workflow

CATEGORY = {"force_password_reset": "Reset my password", "disable": "Leaver: disable account",
            "revoke_sessions": "General request"}


def _synced_user(app, synced, new_user, db, **extra) -> dict:
    user = new_user(**extra)
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    user["requester"] = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
    return user


@pytest.fixture
def person(app, synced, new_user, db):
    """A synced requester with an ordinary Microsoft account (no directory role)."""
    return _synced_user(app, synced, new_user, db, givenName="Ada")


@pytest.fixture
def entra_admin(app, synced, new_user, db):
    """A synced requester whose Microsoft account holds the Global Administrator role."""
    return _synced_user(app, synced, new_user, db, givenName="Grace", displayName="Grace Admin",
                        directoryRoles=["Global Administrator"])


def _only_run(db) -> ActionRun:
    return db.session.scalar(sa.select(ActionRun))


def _succeeded_detail(db, ticket_id) -> dict:
    """The admin-side detail the runner wrote on the ticket when the run succeeded."""
    return db.session.scalar(sa.select(TicketEvent.detail).where(TicketEvent.ticket_id == ticket_id,
                                                                 TicketEvent.kind == "action_succeeded"))


def _public_lines(db, ticket_id) -> list[str]:
    return list(db.session.scalars(sa.select(TicketEvent.public_message).where(TicketEvent.ticket_id == ticket_id)))


@pytest.mark.parametrize("action", ["force_password_reset", "disable", "revoke_sessions"])
def test_an_entra_admin_is_refused_at_once_and_nothing_changes(app, db, synced, catalogue, entra_admin, emulator,
                                                               mailbox, login_as, client, action):
    """Reset, disable and revoke read the target's roles first: an admin fails the run on the first attempt with the
    role named for IT, a plain line for the requester, no change in Entra, no mail, sessions kept, and an audit row."""
    workflow(synced, catalogue, CATEGORY[action], action)
    before = emulator.user(entra_admin["id"])
    login_as(entra_admin["requester"])
    ticket_id = raise_ticket(client, catalogue, CATEGORY[action])
    run = _only_run(db)
    assert run.status == "failed" and run.attempts == 1 and run.error_code == "privileged_target"
    assert run.error_message.startswith("Grace Admin is an administrator in Entra ID (Global Administrator); "
                                        "an Entra admin must do this.")
    after = emulator.user(entra_admin["id"])
    assert after["props"]["accountEnabled"] is True and after["sessions_revoked_at"] is None
    assert after["forceChangePasswordNextSignIn"] is False
    assert after["password_changed_at"] == before["password_changed_at"]
    assert [m["Subject"] for m in mailbox] == [f"Ticket #{ticket_id} is now: needs attention"]  # no password mail
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "this account is an administrator in Microsoft Entra ID, so an IT admin must do this" in page
    assert "Global Administrator" not in page  # the role names are for IT, on the admin side
    live = db.session.scalars(sa.select(DeviceSession).where(DeviceSession.requester_id == entra_admin["requester"].id,
                                                             DeviceSession.ended_at.is_(None))).all()
    assert len(live) == 1
    finished = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "action.finished"))
    assert finished.outcome == "failure" and "an Entra admin must do this" in finished.reason


def test_admin_ticket_page_shows_who_must_act(app, db, synced, catalogue, entra_admin, login_as, client, admin):
    """The admin's ticket page carries the refusal with the role, and the run offers Retry like any failed run."""
    from tests.conftest import ADMIN_PASSWORD, admin_sign_in

    workflow(synced, catalogue, "Leaver: disable account", "disable")
    login_as(entra_admin["requester"])
    ticket_id = raise_ticket(client, catalogue, "Leaver: disable account")
    admin_client = app.test_client()
    assert admin_sign_in(admin_client, admin.email, ADMIN_PASSWORD).status_code == 302
    page = admin_client.get(f"/admin/tickets/{ticket_id}").get_data(as_text=True)
    assert "Grace Admin is an administrator in Entra ID (Global Administrator); an Entra admin must do this." in page


def test_unreadable_roles_fail_naming_the_missing_permission(app, db, synced, catalogue, person, emulator, login_as,
                                                             client):
    """Without a permission to list memberships the check cannot run: the run fails at once, names the permission
    and how to grant it, and nothing is changed in Entra."""
    workflow(synced, catalogue, "Reset my password", "force_password_reset")
    client_id = emulator.app()["client_id"]
    emulator.update_app(client_id, revoke=["Directory.Read.All"])
    credentials.forget_all_clients()  # a cached token would still carry the revoked permission
    try:
        login_as(person["requester"])
        raise_ticket(client, catalogue, "Reset my password")
    finally:
        emulator.update_app(client_id, grant=["Directory.Read.All"])
        credentials.forget_all_clients()
    run = _only_run(db)
    assert run.status == "failed" and run.attempts == 1 and run.error_code == "Authorization_RequestDenied"
    name = person["requester"].display_name
    assert f"Microsoft refused to list {name}'s Entra admin roles" in run.error_message
    assert "nothing was changed" in run.error_message
    assert "Directory.Read.All" in run.error_message and "Check for Entra admin roles before acting" in run.error_message
    assert "Grant admin consent" in run.error_message
    assert emulator.user(person["id"])["forceChangePasswordNextSignIn"] is False


def test_revoke_sign_in_sessions_end_to_end(app, db, synced, catalogue, person, emulator, login_as, client):
    """Revoke: Microsoft's sessions are revoked, every portal session of the person ends, the account stays enabled,
    and no email is involved."""
    workflow(synced, catalogue, "General request", "revoke_sessions")
    other_device = app.test_client()
    assert sso.sign_in(other_device, synced, person["userPrincipalName"], PASSWORD).status_code == 302
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "General request")
    run = _only_run(db)
    assert run.status == "succeeded" and run.mail_status is None and run.graph_request_id
    assert _succeeded_detail(db, ticket_id)["portal_sessions_ended"] == 2
    state = emulator.user(person["id"])
    assert state["sessions_revoked_at"] and state["props"]["accountEnabled"] is True
    ended = other_device.get("/home")
    assert ended.status_code == 302 and "reason=revoked" in ended.headers["Location"]
    assert client.get(f"/tickets/{ticket_id}").status_code == 302  # this browser too must sign in again
    assert "You are signed out everywhere. Sign in again on each device you use." in _public_lines(db, ticket_id)
    sessions = db.session.scalars(sa.select(DeviceSession).where(DeviceSession.requester_id == person["requester"].id))
    assert {s.end_reason for s in sessions} == {"sessions_revoked"}


def test_revoke_without_its_permission_names_it(app, db, synced, catalogue, person, emulator, login_as, client):
    """A 403 from revokeSignInSessions says which permissions Revoke needs, not a guess."""
    workflow(synced, catalogue, "General request", "revoke_sessions")
    client_id = emulator.app()["client_id"]
    emulator.update_app(client_id, revoke=["User.RevokeSessions.All"])
    credentials.forget_all_clients()
    try:
        login_as(person["requester"])
        raise_ticket(client, catalogue, "General request")
    finally:
        emulator.update_app(client_id, grant=["User.RevokeSessions.All"])
        credentials.forget_all_clients()
    run = _only_run(db)
    assert run.status == "failed" and run.attempts == 1
    assert run.error_message.startswith("Microsoft refused Revoke Sign-in Sessions: the app registration lacks")
    assert "Revoke Microsoft sign-in sessions: User.RevokeSessions.All or User.ReadWrite.All" in run.error_message
    assert "Entra admin role" not in run.error_message  # roles were read, and admins ruled out, before the call


def test_editor_offers_revoke_with_its_permissions(app, db, integration, catalogue, login_as, client):
    """The workflow editor lists Revoke Sign-in Sessions with the permissions it needs, and an unknown action gets a
    message that does not count the actions."""
    login_as("admin")
    page = client.get("/admin/workflows/new").get_data(as_text=True)
    assert "Revoke Sign-in Sessions" in page and "A lost or stolen device" in page
    assert "Microsoft Graph permissions: Revoke Microsoft sign-in sessions: User.RevokeSessions.All" in page
    with pytest.raises(ValidationError) as err:
        admin_service.save(None, "Odd", [], True, [{"integration_id": integration.id, "action": "wipe"}], scope="all",
                           actor=signals.SYSTEM)
    assert err.value.detail["errors"] == {"step_0": "Choose one of the actions."}


def test_unlock_of_an_account_that_was_not_locked_says_so(app, db, synced, catalogue, person, emulator, login_as,
                                                          client):
    """Enabled in Entra and no portal lock: the run succeeds, records was_locked False, and the ticket says so."""
    workflow(synced, catalogue, "Account locked out", "unlock")
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "Account locked out")
    run = _only_run(db)
    detail = _succeeded_detail(db, ticket_id)
    assert run.status == "succeeded" and detail["was_locked"] is False and detail["entra_account_re_enabled"] is False
    lines = _public_lines(db, ticket_id)
    assert "Your account was not locked: you can sign in already." in lines
    assert "Your account is unlocked. You can sign in again." not in lines
    assert emulator.user(person["id"])["props"]["accountEnabled"] is True


def test_an_app_that_sees_roles_only_as_ids_still_refuses_the_admin(app, db, emulator, new_user):
    """With GroupMember.Read.All alone Graph lists a role as type and id only: the check still refuses, naming no
    role it cannot see; an ordinary account passes; paging through memberOf finds every role."""
    from portal.entra import clients
    from portal.exceptions import PrivilegedTarget
    from portal.workflows.privileged import refuse_privileged
    from tests.conftest import install_integration

    client_id = emulator.app("Frontdesk (read only)")["client_id"]
    emulator.update_app(client_id, grant=["GroupMember.Read.All"])
    try:
        limited = install_integration(app, emulator, "Frontdesk (read only)", "Limited")
        graph = clients.graph_for(limited, clients.MicrosoftSettings.from_config(app.config))
        holder = new_user(displayName="Role Holder", directoryRoles=["User Administrator", "Security Reader"])
        plain = new_user(displayName="No Roles")
        roles = graph.directory_roles(holder["id"], top=1)  # one role a page: the second comes from the nextLink
        assert len({r["id"] for r in roles}) == 2 and [r["displayName"] for r in roles] == [None, None]
        with pytest.raises(PrivilegedTarget) as err:
            refuse_privileged(graph, Requester(display_name="Role Holder", entra_object_id=holder["id"]), "Reset")
        assert err.value.roles == ["a directory role", "a directory role"]
        assert err.value.message.startswith("Role Holder is an administrator in Entra ID (a directory role, a directory "
                                            "role); an Entra admin must do this.")
        assert refuse_privileged(graph, Requester(display_name="No Roles", entra_object_id=plain["id"]), "Reset") is None
    finally:
        emulator.update_app(client_id, revoke=["GroupMember.Read.All"])
        credentials.forget_all_clients()
