"""Admins sign in with Microsoft: the role comes from Entra (the Frontdesk.Admin app role, or a group mapped on the
Roles page, nested groups and the groups overage included), is checked at every sign-in and after every sync, and
local admins are break-glass accounts. Against the emulator over HTTPS and the real database."""
import re
import uuid

import pytest
import requests
import sqlalchemy as sa

from portal import jobs
from portal.directory.runs import start_run
from portal.models import Admin, AuditEvent, RoleRule
from tests import sso
from tests.conftest import ADMIN_PASSWORD, admin_sign_in, csrf_from
from tests.msft import result_params

PASSWORD = "Start-Password-1"


def failure_kind(response) -> str:
    body = response.get_data(as_text=True)
    marker = 'data-failure="'
    return body[body.index(marker) + len(marker):].split('"', 1)[0] if marker in body else ""


def events(db, action):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def resync(app, integration):
    start_run(integration, "delta", "manual")
    jobs.run_queued_syncs(app)


@pytest.fixture
def creds(emulator):
    """The Frontdesk app registration; its groups claim setting is put back afterwards."""
    app_creds = emulator.app()
    before = emulator.app_roles(app_creds["client_id"])["groupMembershipClaims"]
    yield app_creds
    emulator.set_group_membership_claims(app_creds["client_id"], before)


@pytest.fixture
def nested(emulator, new_user):
    """Outer <- Inner <- person: the person is in Outer only through Inner."""
    person = new_user()
    suffix = uuid.uuid4().hex[:6]
    inner = emulator.create_group(f"Inner-{suffix}", members=[person["id"]])["props"]
    outer = emulator.create_group(f"Outer-{suffix}", members=[inner["id"]])["props"]
    return {"person": person, "inner": inner, "outer": outer}


def map_group(client, integration, group_id):
    """Add a role rule through the Roles page (the signed-in admin is fresh, so no step-up)."""
    page = client.get(f"/admin/integrations/{integration.id}/roles").get_data(as_text=True)
    return client.post(f"/admin/integrations/{integration.id}/roles",
                       data={"csrf_token": csrf_from(page), "group_id": group_id})


def test_the_app_role_makes_an_admin(app, client, db, synced, emulator, creds, new_user):
    """Frontdesk.Admin assigned in Entra: Microsoft sign-in lands on the dashboard; the admin has no password, and
    the sign-in is audited with why."""
    person = new_user()
    emulator.assign_app_role(creds["client_id"], person["id"], "Frontdesk.Admin")
    response = sso.admin_sign_in(client, synced, person["userPrincipalName"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    admin = db.session.scalar(sa.select(Admin).where(Admin.entra_object_id == person["id"]))
    assert admin.password_hash is None
    assert admin.role_reason == "assigned the app role Frontdesk.Admin in Entra"
    signed = events(db, "admin.sign_in")[-1]
    assert signed.detail["method"] == "microsoft"
    assert signed.detail["because"] == admin.role_reason
    assert [e.target_id for e in events(db, "admin.role_granted")] == [str(admin.id)]
    assert client.get_cookie("frontdesk_device") is None  # a requester's known-device cookie is never set for an admin


def test_a_nested_group_mapped_on_the_roles_page_makes_an_admin_and_says_via(app, client, db, synced, emulator, creds,
                                                                              nested, login_as):
    """Outer is mapped; a member of Inner (nested in Outer) is an admin 'because member of Outer (via Inner)'."""
    login_as("admin")
    assert map_group(client, synced, nested["outer"]["id"]).status_code == 302
    assert [e.detail["name"] for e in events(db, "role_rule.added")] == [nested["outer"]["displayName"]]
    browser = app.test_client()
    response = sso.admin_sign_in(browser, synced, nested["person"]["userPrincipalName"])
    assert response.status_code == 302
    admin = db.session.scalar(sa.select(Admin).where(Admin.entra_object_id == nested["person"]["id"]))
    expected = f"member of {nested['outer']['displayName']} (via {nested['inner']['displayName']})"
    assert admin.role_reason == expected
    page = client.get(f"/admin/integrations/{synced.id}/roles").get_data(as_text=True)
    assert f"admin because {expected}" in page


@pytest.mark.parametrize("claims", ["SecurityGroup", None])
def test_the_groups_claim_is_used_when_the_app_sends_it(app, client, db, synced, emulator, creds, nested, login_as,
                                                        claims):
    """With groupMembershipClaims set the ID token's groups decide; without, Graph does; the reason names the path."""
    emulator.set_group_membership_claims(creds["client_id"], claims)
    login_as("admin")
    map_group(client, synced, nested["outer"]["id"])
    response = sso.admin_sign_in(app.test_client(), synced, nested["person"]["userPrincipalName"])
    assert response.status_code == 302
    admin = db.session.scalar(sa.select(Admin).where(Admin.entra_object_id == nested["person"]["id"]))
    assert admin.role_reason == f"member of {nested['outer']['displayName']} (via {nested['inner']['displayName']})"


def test_groups_overage_is_resolved_through_graph(app, client, db, synced, emulator, creds, new_user, login_as):
    """Past 200 groups the token carries the overage pointer instead of groups: Graph transitiveMemberOf decides."""
    person = new_user()
    emulator.set_group_membership_claims(creds["client_id"], "SecurityGroup")
    suffix = uuid.uuid4().hex[:6]
    for number in range(201):
        emulator.create_group(f"Many-{suffix}-{number:03}", members=[person["id"]])
    mapped = emulator.create_group(f"Admins-{suffix}", members=[person["id"]])["props"]
    login_as("admin")
    map_group(client, synced, mapped["id"])
    response = sso.admin_sign_in(app.test_client(), synced, person["userPrincipalName"])
    assert response.status_code == 302, failure_kind(response)
    admin = db.session.scalar(sa.select(Admin).where(Admin.entra_object_id == person["id"]))
    assert admin.role_reason == f"member of Admins-{suffix}"


def test_someone_without_a_role_is_refused_with_a_clear_page(app, client, db, synced, emulator, creds, new_user):
    """A Helpdesk-style member with no role: a 403 page saying so, audited as a failed admin sign-in, no admin row."""
    person = new_user()
    response = sso.admin_sign_in(client, synced, person["userPrincipalName"])
    assert response.status_code == 403
    assert failure_kind(response) == "not_an_admin"
    assert "You are not a Frontdesk admin" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Admin).where(Admin.entra_object_id == person["id"])) is None
    assert events(db, "admin.sign_in_failed")[-1].reason == "not_an_admin"
    assert client.get("/admin/").status_code == 302  # not signed in


def test_losing_the_group_in_entra_ends_the_sessions_after_the_next_sync(app, client, db, synced, emulator, creds,
                                                                         nested, login_as):
    """Removed from Inner in Entra: the sync after it disables the admin and ends their session at once; the next
    Microsoft sign-in is refused."""
    login_as("admin")
    map_group(client, synced, nested["outer"]["id"])
    browser = app.test_client()
    assert sso.admin_sign_in(browser, synced, nested["person"]["userPrincipalName"]).status_code == 302
    assert browser.get("/admin/").status_code == 200
    emulator.remove_member(nested["inner"]["id"], nested["person"]["id"])
    resync(app, synced)
    gone = browser.get("/admin/")
    assert gone.status_code == 302
    assert "/admin/login" in gone.headers["Location"]
    revoked = events(db, "admin.role_revoked")
    assert [e.reason for e in revoked] == ["no admin role in Entra any more"]
    assert revoked[0].detail["sessions_ended"] == 1
    assert failure_kind(sso.admin_sign_in(app.test_client(), synced, nested["person"]["userPrincipalName"])) == "not_an_admin"


def test_losing_the_app_role_is_seen_at_the_next_sign_in(app, client, db, synced, emulator, creds, new_user):
    """Unassigned in Entra: the next sign-in is refused and the admin's other sessions end."""
    person = new_user()
    emulator.assign_app_role(creds["client_id"], person["id"], "Frontdesk.Admin")
    first = app.test_client()
    assert sso.admin_sign_in(first, synced, person["userPrincipalName"]).status_code == 302
    emulator.unassign_app_role(creds["client_id"], person["id"])
    assert failure_kind(sso.admin_sign_in(client, synced, person["userPrincipalName"])) == "not_an_admin"
    assert first.get("/admin/").status_code == 302
    assert events(db, "admin.role_revoked")[-1].reason == "no role in Entra at sign-in"


def test_losing_the_app_role_ends_the_sessions_at_the_next_sync(app, client, db, synced, emulator, creds, new_user):
    """Unassigned in Entra while signed in: the sync after it reads appRoleAssignments and signs the admin out."""
    person = new_user()
    emulator.assign_app_role(creds["client_id"], person["id"], "Frontdesk.Admin")
    assert sso.admin_sign_in(client, synced, person["userPrincipalName"]).status_code == 302
    resync(app, synced)
    assert client.get("/admin/").status_code == 200  # still assigned: nothing changes
    emulator.unassign_app_role(creds["client_id"], person["id"])
    resync(app, synced)
    assert client.get("/admin/").status_code == 302
    assert events(db, "admin.role_revoked")[-1].reason == "no admin role in Entra any more"


def test_an_app_role_given_to_a_group_reaches_direct_members_only(app, client, db, synced, emulator, creds, new_user):
    """As in Entra, the role of a group is not inherited through nesting: a nested member is no admin unless a group
    rule says so, and a direct member is one."""
    direct, deep = new_user(), new_user()
    suffix = uuid.uuid4().hex[:6]
    inner = emulator.create_group(f"Deep-{suffix}", members=[deep["id"]])["props"]
    top = emulator.create_group(f"Top-{suffix}", members=[direct["id"], inner["id"]])["props"]
    emulator.assign_app_role(creds["client_id"], top["id"], "Frontdesk.Admin")
    assert sso.admin_sign_in(client, synced, direct["userPrincipalName"]).status_code == 302
    refused = sso.admin_sign_in(app.test_client(), synced, deep["userPrincipalName"])
    assert failure_kind(refused) == "not_an_admin"
    resync(app, synced)
    assert client.get("/admin/").status_code == 200  # the group's assignment still reaches the direct member


def test_a_disabled_account_loses_the_role_at_the_sync(app, client, db, synced, emulator, creds, new_user):
    """An app-role admin disabled in Entra: the sync deactivates them and ends their admin session."""
    person = new_user()
    emulator.assign_app_role(creds["client_id"], person["id"], "Frontdesk.Admin")
    resync(app, synced)
    assert sso.admin_sign_in(client, synced, person["userPrincipalName"]).status_code == 302
    emulator.update_user(person["id"], accountEnabled=False)
    resync(app, synced)
    assert client.get("/admin/").status_code == 302
    assert events(db, "admin.role_revoked")[-1].reason == "account disabled in Entra"


def test_removing_a_rule_signs_its_admins_out(app, client, db, synced, emulator, creds, nested, login_as):
    """Unmapping the group on the Roles page ends the sessions of the admins it made, at once."""
    login_as("admin")
    map_group(client, synced, nested["outer"]["id"])
    browser = app.test_client()
    assert sso.admin_sign_in(browser, synced, nested["person"]["userPrincipalName"]).status_code == 302
    rule = db.session.scalar(sa.select(RoleRule))
    page = client.get(f"/admin/integrations/{synced.id}/roles").get_data(as_text=True)
    removed = client.post(f"/admin/integrations/{synced.id}/roles/{rule.id}/remove", data={"csrf_token": csrf_from(page)})
    assert removed.status_code == 302
    assert "1 admin lost the role" in client.get(removed.headers["Location"]).get_data(as_text=True)
    assert browser.get("/admin/").status_code == 302
    assert events(db, "role_rule.removed")[-1].detail["group"] == nested["outer"]["id"]


@pytest.mark.parametrize("group_id, message", [
    ("not-a-group", "Choose a group from the search results."),
    ("<script>alert(1)</script>", "Choose a group from the search results."),
    (str(uuid.uuid4()), "The tenant has no such group"),
])
def test_bad_group_choices_are_refused_clearly(client, db, synced, login_as, group_id, message):
    """Junk, hostile text and unknown ids get a 422 that says what to do; nothing is saved."""
    login_as("admin")
    response = map_group(client, synced, group_id)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert "<script>alert(1)</script>" not in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleRule)) == 0


def test_mapping_a_group_needs_a_fresh_sign_in(app, client, db, synced, login_as, nested):
    """A stale admin sign-in is sent to step-up before a role rule changes."""
    login_as("admin")
    with client.session_transaction() as stored:
        stored["auth_time"] = stored["auth_time"] - 3600
    response = map_group(client, synced, nested["outer"]["id"])
    assert response.status_code == 302
    assert "/admin/confirm-password" in response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleRule)) == 0


def test_a_microsoft_admin_steps_up_at_microsoft_as_themselves_only(app, client, db, synced, emulator, creds, new_user):
    """The step-up page of a Microsoft admin offers 'Confirm with Microsoft'; coming back as somebody else is
    refused, and as themselves makes the sign-in fresh."""
    person, other = new_user(), new_user()
    emulator.assign_app_role(creds["client_id"], person["id"], "Frontdesk.Admin")
    assert sso.admin_sign_in(client, synced, person["userPrincipalName"]).status_code == 302
    with client.session_transaction() as stored:
        stored["auth_time"] = stored["auth_time"] - 3600
    page = client.get("/admin/confirm-password").get_data(as_text=True)
    assert "Confirm with Microsoft" in page
    start = client.post("/admin/confirm-microsoft?next=/admin/settings", data={"csrf_token": csrf_from(page)})
    assert "prompt=login" in start.headers["Location"]
    fields, _ = sso.microsoft_answer(start.headers["Location"], other["userPrincipalName"], PASSWORD)
    assert failure_kind(sso.finish(client, fields)) == "not_same_admin"
    start = client.post("/admin/confirm-microsoft?next=/admin/settings", data={"csrf_token": csrf_from(page)})
    fields, _ = sso.microsoft_answer(start.headers["Location"], person["userPrincipalName"], PASSWORD)
    back = sso.finish(client, fields)
    assert back.headers["Location"] == "/admin/settings"
    assert client.get("/admin/settings").status_code == 200
    assert events(db, "admin.step_up")[-1].detail == {"method": "microsoft"}


def test_a_local_admin_is_a_break_glass_account(app, client, db, admin, synced):
    """The page after a local sign-in says it was break-glass, and the audit log says so too."""
    response = admin_sign_in(client, admin.email, ADMIN_PASSWORD)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "local break-glass account" in page
    assert events(db, "admin.sign_in")[-1].detail == {"method": "password", "break_glass": True}
    login = app.test_client().get("/admin/login").get_data(as_text=True)
    assert "Sign in with Microsoft" in login
    assert "break-glass use" in login


def test_a_password_cannot_be_used_on_a_microsoft_admin(app, client, db, synced, emulator, creds, new_user):
    """A Microsoft admin has no password: the local form refuses any, and counts nothing for a guesser to learn."""
    person = new_user()
    emulator.assign_app_role(creds["client_id"], person["id"], "Frontdesk.Admin")
    assert sso.admin_sign_in(app.test_client(), synced, person["userPrincipalName"]).status_code == 302
    refused = admin_sign_in(client, person["userPrincipalName"].lower(), "anything at all 123")
    assert refused.status_code == 401
    assert client.get("/admin/").status_code == 302


def test_uninstalling_the_tenant_takes_the_role_from_its_microsoft_admins(app, client, db, synced, emulator, creds,
                                                                          new_user, login_as):
    """After an uninstall nobody keeps an admin session that Entra gave them; break-glass admins are untouched."""
    person = new_user()
    emulator.assign_app_role(creds["client_id"], person["id"], "Frontdesk.Admin")
    browser = app.test_client()
    assert sso.admin_sign_in(browser, synced, person["userPrincipalName"]).status_code == 302
    login_as("admin")
    page = client.get(f"/admin/integrations/{synced.id}").get_data(as_text=True)
    done = client.post(f"/admin/integrations/{synced.id}/uninstall",
                       data={"csrf_token": csrf_from(page), "confirm_name": synced.name})
    assert done.status_code == 302
    assert browser.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200
    assert events(db, "admin.role_revoked")[-1].reason == "the integration was uninstalled"
    assert events(db, "integration.uninstalled")[-1].detail["admins_revoked"] == 1


def test_a_step_up_that_skips_the_password_is_refused(app, client, db, synced, emulator, creds, new_user):
    """A browser that drops prompt=login and max_age from the step-up gets an answer from its Microsoft session at
    once: auth_time predates the step-up, so it is refused and nothing becomes fresh."""
    person = new_user()
    emulator.assign_app_role(creds["client_id"], person["id"], "Frontdesk.Admin")
    browser = requests.Session()  # the person's browser at Microsoft: its SSO cookie answers without a password
    page = client.get("/admin/login").get_data(as_text=True)
    start = client.post(f"/admin/login/microsoft/{synced.id}", data={"csrf_token": csrf_from(page)})
    fields, _ = sso.microsoft_answer(start.headers["Location"], person["userPrincipalName"], PASSWORD, browser=browser)
    assert sso.finish(client, fields).status_code == 302
    with client.session_transaction() as stored:
        stored["auth_time"] = stored["auth_time"] - 3600
    page = client.get("/admin/confirm-password").get_data(as_text=True)
    start = client.post("/admin/confirm-microsoft?next=/admin/settings", data={"csrf_token": csrf_from(page)})
    assert "max_age=0" in start.headers["Location"]
    with client.session_transaction() as stored:  # the step-up began ten minutes after the password was typed
        flows = dict(stored["auth_flows"])
        for flow in flows.values():
            flow["started"] += 600
        stored["auth_flows"] = flows
    stripped = re.sub(r"&(prompt|max_age)=[^&]*", "", start.headers["Location"])
    answer = browser.get(stripped)
    assert "hiddenform" in answer.text  # Microsoft answered from its session, without asking for the password
    refused = sso.finish(client, result_params(answer))
    assert failure_kind(refused) == "not_reauthenticated"
    assert client.get("/admin/settings").status_code == 302  # still not fresh: sent to step-up again
    assert events(db, "admin.sign_in_failed")[-1].reason == "not_reauthenticated"


def test_settings_links_to_each_integrations_roles_page(client, synced, login_as):
    """Settings is where admins look for roles: it links to the Roles page of each verified integration."""
    login_as("admin")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert f'href="/admin/integrations/{synced.id}/roles"' in page


def test_a_step_up_checks_the_role_in_entra_again(app, client, db, synced, emulator, creds, new_user):
    """Unassigned in Entra before any sync: stepping up as oneself is refused, and the admin is signed out."""
    person = new_user()
    emulator.assign_app_role(creds["client_id"], person["id"], "Frontdesk.Admin")
    assert sso.admin_sign_in(client, synced, person["userPrincipalName"]).status_code == 302
    emulator.unassign_app_role(creds["client_id"], person["id"])
    with client.session_transaction() as stored:
        stored["auth_time"] = stored["auth_time"] - 3600
    page = client.get("/admin/confirm-password").get_data(as_text=True)
    start = client.post("/admin/confirm-microsoft?next=/admin/settings", data={"csrf_token": csrf_from(page)})
    fields, _ = sso.microsoft_answer(start.headers["Location"], person["userPrincipalName"], PASSWORD)
    assert failure_kind(sso.finish(client, fields)) == "not_an_admin"
    assert client.get("/admin/settings").status_code == 302
    assert events(db, "admin.role_revoked")[-1].reason == "no role in Entra at sign-in"


def test_a_deleted_admin_does_not_stop_the_check_of_the_others(app, client, db, synced, emulator, creds, new_user):
    """One admin hard-deleted in Entra (Graph 404s) and one unassigned: after the sync both are signed out."""
    gone, other = new_user(displayName="Aaa deleted admin"), new_user(displayName="Zzz other admin")
    for person in (gone, other):
        emulator.assign_app_role(creds["client_id"], person["id"], "Frontdesk.Admin")
    first, second = app.test_client(), app.test_client()
    assert sso.admin_sign_in(first, synced, gone["userPrincipalName"]).status_code == 302
    assert sso.admin_sign_in(second, synced, other["userPrincipalName"]).status_code == 302
    emulator.hard_delete(gone["id"])
    emulator.unassign_app_role(creds["client_id"], other["id"])
    resync(app, synced)
    assert first.get("/admin/").status_code == 302
    assert second.get("/admin/").status_code == 302
