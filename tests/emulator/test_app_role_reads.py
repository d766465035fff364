"""Graph reads behind the admin role check: an app's service principal with its appRoles, a user's appRoleAssignments
(their own and their direct groups', never through nesting), and a group's memberOf / transitiveMemberOf."""
from tests.emulator.test_graph import _new_user
from tests.emulator.test_groups import _group


def test_service_principal_by_app_id_names_its_app_roles(emulator, graph):
    """The service principal has its own object id, not the app id, and lists the declared roles."""
    client_id = emulator.app()["client_id"]
    body = graph.get(f"{graph.base}/servicePrincipals(appId='{client_id}')").json()
    assert body["appId"] == client_id
    assert body["id"] != client_id
    assert {r["value"] for r in body["appRoles"]} == {"Frontdesk.Admin", "Frontdesk.Agent"}
    missing = graph.get(f"{graph.base}/servicePrincipals(appId='00000000-0000-0000-0000-00000000dead')")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_app_role_assignments_reach_direct_group_members_only(emulator, graph):
    """Assigned to a group: its direct member sees the assignment (resourceId = the service principal), a member of
    a nested group does not; removing the assignment empties the list."""
    client_id = emulator.app()["client_id"]
    direct, deep = _new_user(emulator), _new_user(emulator)
    inner = _group(emulator, [deep["id"]])
    top = _group(emulator, [direct["id"], inner["id"]])
    emulator.assign_app_role(client_id, top["id"], "Frontdesk.Admin")
    principal = graph.get(f"{graph.base}/servicePrincipals(appId='{client_id}')").json()
    admin_role = next(r["id"] for r in principal["appRoles"] if r["value"] == "Frontdesk.Admin")
    mine = graph.get(f"{graph.base}/users/{direct['id']}/appRoleAssignments").json()["value"]
    assert [(a["principalId"], a["appRoleId"], a["resourceId"]) for a in mine] == [(top["id"], admin_role, principal["id"])]
    assert graph.get(f"{graph.base}/users/{deep['id']}/appRoleAssignments").json()["value"] == []
    emulator.unassign_app_role(client_id, top["id"])
    assert graph.get(f"{graph.base}/users/{direct['id']}/appRoleAssignments").json()["value"] == []


def test_reading_assignments_needs_a_directory_permission(emulator, graph):
    """An app with only User.Read.All is refused with Graph's 403."""
    person = _new_user(emulator)
    refused = graph.as_app("Frontdesk (read only)").get(f"{graph.base}/users/{person['id']}/appRoleAssignments")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "Authorization_RequestDenied"


def test_a_groups_memberships_and_the_group_type_cast(emulator, graph):
    """memberOf of a group is its direct parents; transitiveMemberOf goes all the way up; the user's
    /microsoft.graph.group cast leaves directory roles out."""
    person = _new_user(emulator)
    low = _group(emulator, [person["id"]])
    mid = _group(emulator, [low["id"]])
    high = _group(emulator, [mid["id"]])
    parents = graph.get(f"{graph.base}/groups/{low['id']}/memberOf").json()["value"]
    assert [p["id"] for p in parents] == [mid["id"]]
    ancestors = graph.get(f"{graph.base}/groups/{low['id']}/transitiveMemberOf/microsoft.graph.group").json()["value"]
    assert [p["id"] for p in ancestors] == [mid["id"], high["id"]]
    mine = graph.get(f"{graph.base}/users/{person['id']}/transitiveMemberOf/microsoft.graph.group",
                     params={"$select": "id,displayName"}).json()["value"]
    assert [(g["id"], g["@odata.type"]) for g in mine] == [(low["id"], "#microsoft.graph.group"),
                                                            (mid["id"], "#microsoft.graph.group"),
                                                            (high["id"], "#microsoft.graph.group")]
    assert graph.get(f"{graph.base}/groups/{person['id']}/memberOf").status_code == 404
