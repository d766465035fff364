"""App roles and group claims in id tokens: roles from direct and group assignments (direct members only, as Entra),
groups per groupMembershipClaims, the groups overage past 200, and the control API behind them."""
import uuid

import pytest
import requests

from emulator.seed import DEMO_PASSWORD
from tests.emulator.test_graph import _new_user
from tests.emulator.test_groups import _group
from tests.emulator.test_sign_in import _start
from tests.msft import result_params, submit_login


def _id_token_claims(emulator, upn, password=DEMO_PASSWORD) -> dict:
    """Sign in on the emulator's page and redeem the code through MSAL, as the portal does."""
    browser = requests.Session()  # a fresh browser each time: no SSO cookie, so every sign-in is a new one
    app, flow, page = _start(emulator, browser)
    result = app.acquire_token_by_auth_code_flow(flow, result_params(submit_login(browser, page, upn, password)))
    assert "id_token_claims" in result, result
    return result["id_token_claims"]


@pytest.fixture
def frontdesk(emulator):
    """The Frontdesk app's client id; its groupMembershipClaims is put back after each test."""
    client_id = emulator.app()["client_id"]
    yield client_id
    emulator.set_group_membership_claims(client_id, "SecurityGroup")


def _demo(emulator, index):
    return emulator.info["demo_users"][index]


def test_seeded_app_roles_and_assignment(emulator, frontdesk):
    """Frontdesk declares Frontdesk.Admin and Frontdesk.Agent for users; IT-Admins holds Frontdesk.Admin."""
    roles = emulator.app_roles(frontdesk)
    by_value = {r["value"]: r for r in roles["appRoles"]}
    assert set(by_value) == {"Frontdesk.Admin", "Frontdesk.Agent"} and roles["groupMembershipClaims"] == "SecurityGroup"
    admin = by_value["Frontdesk.Admin"]
    assert admin["allowedMemberTypes"] == ["User"] and admin["isEnabled"] is True and uuid.UUID(admin["id"])
    assert {"principalId": emulator.group_id("IT-Admins"), "principalType": "Group", "appRoleId": admin["id"]}.items() \
        <= roles["appRoleAssignments"][0].items()


def test_direct_member_of_assigned_group_gets_the_role_and_groups(emulator, frontdesk):
    """A direct IT-Admins member's id token has roles [Frontdesk.Admin] and the security groups (not Microsoft 365)."""
    claims = _id_token_claims(emulator, _demo(emulator, 2)["userPrincipalName"])
    assert claims["roles"] == ["Frontdesk.Admin"]
    assert claims["groups"] == [emulator.group_id("IT-Admins")]


def test_nested_member_gets_groups_but_not_the_role(emulator, frontdesk):
    """A Helpdesk-Leads member is in IT-Admins through nesting: both groups are in the claim, the role is not (Entra
    assigns a group's app roles to its direct members only)."""
    claims = _id_token_claims(emulator, _demo(emulator, 3)["userPrincipalName"])
    assert "roles" not in claims
    assert claims["groups"] == [emulator.group_id("Helpdesk-Leads"), emulator.group_id("IT-Admins")]


def test_direct_assignment_and_unassignment(emulator, frontdesk):
    """A role assigned to the user reaches the token; once unassigned it is gone; unknown roles are 404."""
    user = _new_user(emulator)
    emulator.assign_app_role(frontdesk, user["userPrincipalName"], "Frontdesk.Agent")
    assert _id_token_claims(emulator, user["userPrincipalName"], "Start-Password-1")["roles"] == ["Frontdesk.Agent"]
    again = emulator.http.post(f"{emulator.info['control_url']}/apps/{frontdesk}/role-assignments",
                               json={"principalId": user["id"], "appRole": "Frontdesk.Agent"})
    assert again.status_code == 400
    emulator.unassign_app_role(frontdesk, user["id"], "Frontdesk.Agent")
    assert "roles" not in _id_token_claims(emulator, user["userPrincipalName"], "Start-Password-1")
    unknown = emulator.http.post(f"{emulator.info['control_url']}/apps/{frontdesk}/role-assignments",
                                 json={"principalId": user["id"], "appRole": "Frontdesk.Owner"})
    assert unknown.status_code == 404


def test_group_membership_claims_setting(emulator, frontdesk):
    """null: no groups claim; All: Microsoft 365 groups too; anything else is refused."""
    user = _new_user(emulator)
    security = _group(emulator, [user["id"]])
    unified = _group(emulator, [user["id"]], groupTypes=["Unified"])
    emulator.set_group_membership_claims(frontdesk, None)
    assert "groups" not in _id_token_claims(emulator, user["userPrincipalName"], "Start-Password-1")
    emulator.set_group_membership_claims(frontdesk, "All")
    groups = _id_token_claims(emulator, user["userPrincipalName"], "Start-Password-1")["groups"]
    assert sorted(groups) == sorted([security["id"], unified["id"]])
    bad = emulator.http.patch(f"{emulator.info['control_url']}/apps/{frontdesk}", json={"groupMembershipClaims": "Some"})
    assert bad.status_code == 400


def test_groups_overage_past_200(graph, emulator, frontdesk):
    """200 groups fit in the claim; the 201st replaces it with _claim_names/_claim_sources pointing at the
    emulator's getMemberObjects, which lists every group."""
    user = _new_user(emulator)
    upn = user["userPrincipalName"]
    ids = [_group(emulator, [user["id"]], displayName=f"Overage {i:03d} {uuid.uuid4().hex[:6]}")["id"] for i in range(200)]
    claims = _id_token_claims(emulator, upn, "Start-Password-1")
    assert sorted(claims["groups"]) == sorted(ids) and "_claim_names" not in claims
    ids.append(_group(emulator, [user["id"]])["id"])
    claims = _id_token_claims(emulator, upn, "Start-Password-1")
    endpoint = f"{emulator.info['graph_endpoint']}/v1.0/users/{user['id']}/getMemberObjects"
    assert "groups" not in claims
    assert claims["_claim_names"] == {"groups": "src1"}
    assert claims["_claim_sources"] == {"src1": {"endpoint": endpoint}}
    listed = graph.post(endpoint, json={"securityEnabledOnly": True})
    assert sorted(listed.json()["value"]) == sorted(ids)


def test_assignment_required_is_met_through_a_group(emulator, frontdesk):
    """With assignment required, a direct member of an assigned group may sign in; others get AADSTS50105."""
    member, outsider = _new_user(emulator), _new_user(emulator)
    group = _group(emulator, [member["id"]])
    emulator.assign_app_role(frontdesk, group["id"], "Frontdesk.Agent")
    emulator.update_app(frontdesk, assignment_required=True)
    try:
        assert _id_token_claims(emulator, member["userPrincipalName"], "Start-Password-1")["roles"] == ["Frontdesk.Agent"]
        app, flow, page = _start(emulator, requests.Session(), response_mode="query")
        refused = result_params(submit_login(requests.Session(), page, outsider["userPrincipalName"], "Start-Password-1"))
        assert refused["error"] == "access_denied" and "AADSTS50105" in refused["error_description"]
    finally:
        emulator.update_app(frontdesk, assignment_required=False)
        emulator.delete_group(group["id"])
    assert emulator.app_roles(frontdesk)["appRoleAssignments"][-1]["principalId"] != group["id"]
