"""Graph v1.0 groups: listing, paging, $filter, $search, $count, members (direct, transitive, cast), memberships,
permissions, and the control API that changes them."""
import uuid

import pytest

from tests.emulator.test_graph import _new_user

EVENTUAL = {"ConsistencyLevel": "eventual"}


def _group(emulator, members=(), **props):
    name = props.pop("displayName", f"G-{uuid.uuid4().hex[:8]}")
    return emulator.create_group(name, members=list(members), **props)["props"]


def _all(graph, url, **kwargs):
    """Every item over @odata.nextLink; returns (items, pages)."""
    items, pages = [], 0
    while url:
        body = graph.get(url, **kwargs).json()
        assert "error" not in body, body
        items += body["value"]
        pages += 1
        url = body.get("@odata.nextLink")
        kwargs.pop("params", None)
    return items, pages


def test_seeded_groups_are_listed_with_microsoft_shapes(graph, emulator):
    """IT-Admins and Helpdesk are security groups; department groups are Microsoft 365 groups with mail."""
    groups = {gr["displayName"]: gr for gr in _all(graph, graph.base + "/groups")[0]}
    admins = groups["IT-Admins"]
    assert admins["securityEnabled"] is True and admins["mailEnabled"] is False and admins["groupTypes"] == []
    assert admins["id"] == emulator.group_id("IT-Admins") and admins["mailNickname"] == "it-admins"
    assert {"Helpdesk", "Helpdesk-Leads", "Sales department"} <= set(groups)
    sales = groups["Sales department"]
    assert sales["groupTypes"] == ["Unified"] and sales["mailEnabled"] is True and sales["securityEnabled"] is False
    assert sales["mail"] == f"sales@{emulator.info['tenant_domain']}" and sales["visibility"] == "Private"
    one = graph.get(graph.base + f"/groups/{admins['id']}", params={"$select": "displayName"}).json()
    assert one == {"@odata.context": emulator.info["graph_endpoint"] + "/v1.0/$metadata#groups(id,displayName)/$entity",
                   "id": admins["id"], "displayName": "IT-Admins"}
    missing = graph.get(graph.base + f"/groups/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_top_pages_every_group_once_and_count_needs_eventual(graph):
    """$top=3 pages through all groups with nextLinks; $count=true gives @odata.count with ConsistencyLevel only."""
    counted = graph.get(graph.base + "/groups", params={"$count": "true", "$select": "id"}, headers=EVENTUAL).json()
    items, pages = _all(graph, graph.base + "/groups", params={"$top": "3", "$select": "id,displayName"})
    assert len(items) == len({i["id"] for i in items}) == counted["@odata.count"] >= 11
    assert pages == -(-len(items) // 3) and all(set(i) == {"id", "displayName"} for i in items)
    refused = graph.get(graph.base + "/groups", params={"$count": "true"})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "Request_BadRequest"
    assert graph.get(graph.base + "/groups/$count", headers=EVENTUAL).text == str(len(items))
    unified = graph.get(graph.base + "/groups/$count", params={"$filter": "securityEnabled eq false"}, headers=EVENTUAL)
    assert 8 <= int(unified.text) < len(items)
    assert graph.get(graph.base + "/groups/$count").status_code == 400


def test_filter_clauses(graph, emulator):
    """startswith, eq on booleans and strings, id in (...), groupTypes/any, joined by and; others are 400."""
    def names(expr):
        return {g["displayName"] for g in _all(graph, graph.base + "/groups",
                                               params={"$filter": expr, "$select": "displayName", "$top": "50"})[0]}
    assert names("startswith(displayName,'Helpdesk')") == {"Helpdesk", "Helpdesk-Leads"}
    assert "Sales department" not in names("securityEnabled eq true") and "IT-Admins" in names("securityEnabled eq true")
    assert names("displayName eq 'it-admins'") == {"IT-Admins"}
    ids = [emulator.group_id("Helpdesk"), emulator.group_id("IT-Admins")]
    assert names(f"id in ('{ids[0]}', '{ids[1]}')") == {"Helpdesk", "IT-Admins"}
    assert names("groupTypes/any(c:c eq 'Unified') and startswith(displayName,'Sales')") == {"Sales department"}
    bad = graph.get(graph.base + "/groups", params={"$filter": "endswith(displayName,'s')"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_search_needs_consistency_level_and_matches_word_starts(graph):
    """$search without ConsistencyLevel is Microsoft's 400; with it, terms match the start of any word."""
    refused = graph.get(graph.base + "/groups", params={"$search": '"displayName:help"'})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "Request_UnsupportedQuery" and "ConsistencyLevel: eventual" in error["message"]
    found = graph.get(graph.base + "/groups", params={"$search": '"displayName:lead"', "$count": "true"},
                      headers=EVENTUAL).json()
    assert [g["displayName"] for g in found["value"]] == ["Helpdesk-Leads"] and found["@odata.count"] == 1
    either = graph.get(graph.base + "/groups", params={"$search": '"displayName:sales" OR "displayName:legal"'},
                       headers=EVENTUAL).json()
    assert {g["displayName"] for g in either["value"]} == {"Sales department", "Legal department"}
    assert graph.get(graph.base + "/groups", params={"$search": "sales"}, headers=EVENTUAL).status_code == 400


def test_every_group_route_needs_a_group_permission(graph, emulator):
    """User.Read.All alone is 403 Authorization_RequestDenied on each route; GroupMember.Read.All is enough."""
    group_id = emulator.group_id("IT-Admins")
    app = graph.as_app("Frontdesk (read only)")
    routes = ["/groups", f"/groups/{group_id}", f"/groups/{group_id}/members",
              f"/groups/{group_id}/transitiveMembers/microsoft.graph.user", "/groups/delta"]
    for route in routes:
        response = app.get(graph.base + route)
        assert response.status_code == 403 and response.json()["error"]["code"] == "Authorization_RequestDenied", route
    client_id = emulator.app("Frontdesk (read only)")["client_id"]
    emulator.update_app(client_id, grant=["GroupMember.Read.All"])
    try:
        allowed = graph.as_app("Frontdesk (read only)")
        assert all(allowed.get(graph.base + route).status_code == 200 for route in routes)
    finally:
        emulator.update_app(client_id, revoke=["GroupMember.Read.All"])


def test_direct_members_are_typed_and_transitive_users_deduplicated(graph, emulator):
    """members lists users and groups with @odata.type; transitiveMembers/microsoft.graph.user reaches nested users
    once each, even when a user is in several nested groups, and pages with $top."""
    a, b, c = (_new_user(emulator) for _ in range(3))
    inner = _group(emulator, [b["id"], c["id"]])
    middle = _group(emulator, [inner["id"], a["id"], c["id"]])
    outer = _group(emulator, [middle["id"], a["id"]])
    direct = graph.get(graph.base + f"/groups/{outer['id']}/members", params={"$select": "id,displayName"}).json()
    assert direct["@odata.context"].endswith("$metadata#directoryObjects(id,displayName)")
    assert direct["value"] == [{"@odata.type": "#microsoft.graph.group", "id": middle["id"], "displayName": middle["displayName"]},
                               {"@odata.type": "#microsoft.graph.user", "id": a["id"], "displayName": a["displayName"]}]
    url = graph.base + f"/groups/{outer['id']}/transitiveMembers/microsoft.graph.user"
    users, pages = _all(graph, url, params={"$select": "id,userPrincipalName", "$top": "2"})
    assert sorted(u["id"] for u in users) == sorted([a["id"], b["id"], c["id"]]) and pages == 2
    assert all(set(u) == {"id", "userPrincipalName"} for u in users)
    first = graph.get(url, params={"$select": "id"}).json()
    assert first["@odata.context"].endswith("$metadata#users(id)")
    everyone = graph.get(graph.base + f"/groups/{outer['id']}/transitiveMembers").json()["value"]
    assert {m["@odata.type"] for m in everyone} == {"#microsoft.graph.user", "#microsoft.graph.group"} and len(everyone) == 5


def test_member_counts_need_eventual(graph, emulator):
    """/members/$count and /transitiveMembers/microsoft.graph.user/$count are plain text with ConsistencyLevel."""
    group_id = emulator.group_id("IT-Admins")
    direct = graph.get(graph.base + f"/groups/{group_id}/members/$count", headers=EVENTUAL)
    assert direct.status_code == 200 and direct.text == "2" and direct.headers["Content-Type"].startswith("text/plain")
    nested = graph.get(graph.base + f"/groups/{group_id}/transitiveMembers/microsoft.graph.user/$count", headers=EVENTUAL)
    assert nested.text == "3"
    assert graph.get(graph.base + f"/groups/{group_id}/members/$count").status_code == 400


def test_transitive_member_of_and_get_member_objects(graph, emulator):
    """memberOf lists the direct group; transitiveMemberOf adds the groups above it; getMemberObjects gives ids."""
    user = _new_user(emulator)
    inner = _group(emulator, [user["id"]])
    outer = _group(emulator, [inner["id"]], groupTypes=["Unified"], displayName=f"M365-{uuid.uuid4().hex[:6]}")
    direct = graph.get(graph.base + f"/users/{user['id']}/memberOf").json()["value"]
    assert [(m["@odata.type"], m["id"]) for m in direct] == [("#microsoft.graph.group", inner["id"])]
    assert direct[0]["displayName"] == inner["displayName"]
    nested = graph.get(graph.base + f"/users/{user['userPrincipalName']}/transitiveMemberOf",
                       params={"$select": "id,displayName"}).json()["value"]
    assert [m["id"] for m in nested] == [inner["id"], outer["id"]]
    objects = graph.post(graph.base + f"/users/{user['id']}/getMemberObjects", json={"securityEnabledOnly": False})
    assert objects.status_code == 200 and objects.json()["value"] == [inner["id"], outer["id"]]
    security = graph.post(graph.base + f"/users/{user['id']}/getMemberGroups", json={"securityEnabledOnly": True})
    assert security.json()["value"] == [inner["id"]]


def test_control_api_changes_membership_and_deletes(graph, emulator):
    """Add and remove members, delete a nested group: listings follow; bad requests are refused."""
    user, other = _new_user(emulator), _new_user(emulator)
    inner = _group(emulator, [user["id"]])
    outer = _group(emulator, [inner["id"]])
    emulator.add_member(outer["id"], other["userPrincipalName"])
    url = graph.base + f"/groups/{outer['id']}/transitiveMembers/microsoft.graph.user"
    assert {u["id"] for u in graph.get(url).json()["value"]} == {user["id"], other["id"]}
    emulator.remove_member(outer["id"], other["id"])
    emulator.delete_group(inner["id"])
    assert graph.get(url).json()["value"] == []
    assert graph.get(graph.base + f"/users/{user['id']}/memberOf").json()["value"] == []
    control = emulator.info["control_url"]
    assert emulator.http.post(f"{control}/groups/{outer['id']}/members", json={"id": "nobody"}).status_code == 404
    assert emulator.http.post(f"{control}/groups/{outer['id']}/members", json={"id": outer["id"]}).status_code == 400
    assert emulator.http.post(f"{control}/groups", json={"description": "no name"}).status_code == 400
    emulator.hard_delete(user["id"])


def test_hard_deleted_user_leaves_groups_and_soft_deleted_is_hidden(graph, emulator):
    """A soft-deleted member is not listed; a hard-deleted one is gone from the group."""
    soft, hard = _new_user(emulator), _new_user(emulator)
    group = _group(emulator, [soft["id"], hard["id"]])
    emulator.soft_delete(soft["id"])
    emulator.hard_delete(hard["id"])
    assert graph.get(graph.base + f"/groups/{group['id']}/members").json()["value"] == []
    emulator.restore(soft["id"])
    assert [m["id"] for m in graph.get(graph.base + f"/groups/{group['id']}/members").json()["value"]] == [soft["id"]]


@pytest.mark.parametrize("path", ["/groups/{id}/owners", "/groups/{id}/members/microsoft.graph.device"])
def test_unsupported_relations_are_400(graph, emulator, path):
    response = graph.get(graph.base + path.format(id=emulator.group_id("IT-Admins")))
    assert response.status_code == 400
