"""Graph v1.0 memberOf / transitiveMemberOf: the directory roles a user holds, in Graph's shape, paged and guarded
(the groups listed beside them are tested in test_groups.py)."""
import uuid

import pytest

GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"  # Microsoft's template id, the same in every tenant


def _new_user(emulator, **extra):
    name = f"m{uuid.uuid4().hex[:10]}"
    return emulator.create_user(userPrincipalName=f"{name}@{emulator.info['tenant_domain']}", **extra)["props"]


def _seeded_admin(emulator):
    return next(u for u in emulator.info["demo_users"] if u["directoryRoles"])


def _roles(body: dict) -> list[dict]:
    """The directory roles of a memberships page (the seeded admin is also in a department group)."""
    return [item for item in body["value"] if item["@odata.type"] == "#microsoft.graph.directoryRole"]


@pytest.mark.parametrize("relation", ["memberOf", "transitiveMemberOf"])
def test_seeded_global_administrator_is_listed_as_a_directory_role(graph, emulator, relation):
    """The seeded admin's memberships hold one directoryRole with Microsoft's template id, by id or by UPN alike."""
    admin = _seeded_admin(emulator)
    by_id = graph.get(graph.base + f"/users/{admin['id']}/{relation}")
    assert by_id.status_code == 200
    body = by_id.json()
    assert body["@odata.context"] == emulator.info["graph_endpoint"] + "/v1.0/$metadata#directoryObjects"
    assert "@odata.nextLink" not in body
    [role] = _roles(body)
    assert set(role) == {"@odata.type", "id", "deletedDateTime", "description", "displayName", "roleTemplateId"}
    assert role["@odata.type"] == "#microsoft.graph.directoryRole" and role["displayName"] == "Global Administrator"
    assert role["roleTemplateId"] == GLOBAL_ADMIN_TEMPLATE and role["description"].startswith("Can manage all aspects")
    assert uuid.UUID(role["id"]) and role["id"] != GLOBAL_ADMIN_TEMPLATE
    assert _roles(graph.get(graph.base + f"/users/{admin['userPrincipalName']}/{relation}").json()) == [role]


def test_role_ids_are_stable_and_shared_by_holders(graph, emulator):
    """Two holders of one role see the same directoryRole id (one activated role per tenant); a user without roles
    has no memberships."""
    admin = _seeded_admin(emulator)
    other = _new_user(emulator, directoryRoles=["Global Administrator"])
    plain = _new_user(emulator)
    first = _roles(graph.get(graph.base + f"/users/{admin['id']}/memberOf").json())[0]["id"]
    second = graph.get(graph.base + f"/users/{other['id']}/memberOf").json()["value"][0]["id"]
    assert first == second
    assert graph.get(graph.base + f"/users/{plain['id']}/memberOf").json()["value"] == []


def test_top_pages_with_next_link_and_select_narrows(graph, emulator):
    """$top 2 over three roles gives two pages through @odata.nextLink; $select keeps type, id and the chosen fields."""
    roles = ["User Administrator", "Helpdesk Administrator", "Security Reader"]
    user = _new_user(emulator, directoryRoles=roles)
    first = graph.get(graph.base + f"/users/{user['id']}/memberOf",
                      params={"$top": "2", "$select": "displayName,roleTemplateId"}).json()
    assert first["@odata.context"].endswith("$metadata#directoryObjects(id,displayName,roleTemplateId)")
    assert len(first["value"]) == 2 and "@odata.nextLink" in first
    second = graph.get(first["@odata.nextLink"]).json()
    assert "@odata.nextLink" not in second and len(second["value"]) == 1
    listed = first["value"] + second["value"]
    assert [r["displayName"] for r in listed] == roles
    assert all(set(r) == {"@odata.type", "id", "displayName", "roleTemplateId"} for r in listed)
    assert listed[0]["roleTemplateId"] == "fe930be7-5e62-47db-91af-98c3a49a38b1"


def test_bad_select_top_and_skiptoken_are_400(graph, emulator):
    """An unknown property, a $top outside 1-999 and a forged page token are Graph's 400s."""
    admin = _seeded_admin(emulator)
    url = graph.base + f"/users/{admin['id']}/memberOf"
    assert graph.get(url, params={"$select": "notAProperty"}).json()["error"]["code"] == "Request_BadRequest"
    assert graph.get(url, params={"$top": "0"}).json()["error"]["code"] == "Request_UnsupportedQuery"
    assert graph.get(url, params={"$skiptoken": "forged.token"}).status_code == 400


def test_unknown_and_deleted_users_are_404(graph, emulator):
    """An unknown id and a soft-deleted user are Request_ResourceNotFound."""
    gone = _new_user(emulator, directoryRoles=["Global Administrator"])
    emulator.soft_delete(gone["id"])
    for key in (str(uuid.uuid4()), gone["id"]):
        response = graph.get(graph.base + f"/users/{key}/memberOf")
        assert response.status_code == 404 and response.json()["error"]["code"] == "Request_ResourceNotFound"


def test_permission_is_enforced_and_limited_apps_see_only_type_and_id(graph, emulator):
    """User.Read.All alone is 403; GroupMember.Read.All may list memberships but sees a role only as type and id."""
    admin = _seeded_admin(emulator)
    read_only = emulator.app("Frontdesk (read only)")["client_id"]
    denied = graph.as_app("Frontdesk (read only)").get(graph.base + f"/users/{admin['id']}/memberOf")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
    emulator.update_app(read_only, grant=["GroupMember.Read.All"])
    try:
        limited = graph.as_app("Frontdesk (read only)").get(graph.base + f"/users/{admin['id']}/memberOf")
    finally:
        emulator.update_app(read_only, revoke=["GroupMember.Read.All"])
    [role] = _roles(limited.json())
    assert role["@odata.type"] == "#microsoft.graph.directoryRole" and uuid.UUID(role["id"])
    assert role["displayName"] is None and role["roleTemplateId"] is None


def test_control_api_sets_and_validates_directory_roles(graph, emulator):
    """PATCH directoryRoles on the control API changes what memberOf lists; a non-list is refused with 400."""
    user = _new_user(emulator)
    assert emulator.update_user(user["id"], directoryRoles=["Exchange Administrator"])["directory_roles"] == [
        "Exchange Administrator"]
    [role] = graph.get(graph.base + f"/users/{user['id']}/memberOf").json()["value"]
    assert role["displayName"] == "Exchange Administrator"
    refused = emulator.http.patch(f"{emulator.info['control_url']}/users/{user['id']}",
                                  json={"directoryRoles": "Global Administrator"})
    assert refused.status_code == 400 and "directoryRoles" in refused.json()["message"]
    emulator.update_user(user["id"], directoryRoles=[])
    assert graph.get(graph.base + f"/users/{user['id']}/memberOf").json()["value"] == []
