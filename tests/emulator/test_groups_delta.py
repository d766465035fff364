"""groups/delta: the initial round with members@delta, then created, changed, deleted groups and membership changes."""
from tests.emulator.test_delta import _round
from tests.emulator.test_graph import _new_user
from tests.emulator.test_groups import _group

SELECT = "displayName,members"
USER = "#microsoft.graph.user"


def _latest(graph):
    body = graph.get(graph.base + "/groups/delta", params={"$select": SELECT, "$deltatoken": "latest"}).json()
    assert body["value"] == [] and "@odata.deltaLink" in body
    return body["@odata.deltaLink"]


def test_initial_round_lists_every_group_with_its_members(graph, emulator):
    """Pages of 4 reach every group once, each with members@delta of its direct members."""
    total = len(emulator.info["groups"])
    values, link, pages = _round(graph, graph.base + f"/groups/delta?$select={SELECT}", page_size=4)
    by_name = {v["displayName"]: v for v in values}
    assert len(values) == len({v["id"] for v in values}) >= total and pages == -(-len(values) // 4)
    assert "/groups/delta?$deltatoken=" in link
    admins = by_name["IT-Admins"]
    assert set(admins) == {"id", "displayName", "members@delta"}
    types = sorted(m["@odata.type"] for m in admins["members@delta"])
    assert types == ["#microsoft.graph.group", USER]
    assert {"@odata.type": "#microsoft.graph.group", "id": emulator.group_id("Helpdesk-Leads")} in admins["members@delta"]


def test_membership_changes_appear_as_members_delta(graph, emulator):
    """An added member is listed, a removed one carries @removed deleted; unchanged groups are absent."""
    stays, leaves, joins = (_new_user(emulator) for _ in range(3))
    group = _group(emulator, [stays["id"], leaves["id"]])
    link = _latest(graph)
    emulator.add_member(group["id"], joins["id"])
    emulator.remove_member(group["id"], leaves["id"])
    values, link2, _ = _round(graph, link)
    assert values == [{"id": group["id"], "members@delta": [
        {"@odata.type": USER, "id": joins["id"]},
        {"@odata.type": USER, "id": leaves["id"], "@removed": {"reason": "deleted"}}]}]
    assert _round(graph, link2)[0] == []


def test_created_renamed_and_deleted_groups(graph, emulator):
    """A new group comes whole, a rename with only displayName, deletions as @removed (changed for Microsoft 365)."""
    member = _new_user(emulator)
    renamed, security, unified = _group(emulator), _group(emulator), _group(emulator, groupTypes=["Unified"])
    link = _latest(graph)
    created = _group(emulator, [member["id"]])
    emulator.update_group(renamed["id"], displayName="Renamed group", description="not selected")
    emulator.delete_group(security["id"])
    emulator.delete_group(unified["id"])
    by_id = {v["id"]: v for v in _round(graph, link)[0]}
    assert by_id[created["id"]] == {"id": created["id"], "displayName": created["displayName"],
                                    "members@delta": [{"@odata.type": USER, "id": member["id"]}]}
    assert by_id[renamed["id"]] == {"id": renamed["id"], "displayName": "Renamed group"}
    assert by_id[security["id"]] == {"id": security["id"], "@removed": {"reason": "deleted"}}
    assert by_id[unified["id"]] == {"id": unified["id"], "@removed": {"reason": "changed"}}


def test_nested_group_added_and_hard_deleted_user(graph, emulator):
    """Adding a group is a #microsoft.graph.group entry; a hard-deleted user is removed from its groups."""
    user = _new_user(emulator)
    parent, child = _group(emulator, [user["id"]]), _group(emulator)
    link = _latest(graph)
    emulator.add_member(parent["id"], child["id"])
    emulator.hard_delete(user["id"])
    [item] = _round(graph, link)[0]
    assert item["members@delta"] == [{"@odata.type": "#microsoft.graph.group", "id": child["id"]},
                                     {"@odata.type": USER, "id": user["id"], "@removed": {"reason": "deleted"}}]


def test_tokens_are_not_interchangeable_and_expire(graph, emulator):
    """A users deltaLink is refused by groups/delta (and back); expired tokens are 410 resyncRequired."""
    users_link = graph.get(graph.base + "/users/delta", params={"$deltatoken": "latest"}).json()["@odata.deltaLink"]
    groups_link = _latest(graph)
    token = users_link.split("$deltatoken=")[1]
    refused = graph.get(graph.base + "/groups/delta", params={"$deltatoken": token})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "syncStateNotFound"
    back = graph.get(graph.base + "/users/delta", params={"$deltatoken": groups_link.split("$deltatoken=")[1]})
    assert back.status_code == 400
    emulator.expire_delta_tokens()
    gone = graph.get(groups_link)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "resyncRequired"


def test_filter_by_ids_tracks_only_those_groups(graph, emulator):
    """`$filter=id eq 'a' or id eq 'b'` limits the initial round and later rounds to those groups; other filters 400."""
    user = _new_user(emulator)
    tracked, other, untracked = _group(emulator), _group(emulator), _group(emulator)
    expr = f"id eq '{tracked['id']}' or id eq '{other['id']}'"
    values, link, _ = _round(graph, graph.base + f"/groups/delta?$select={SELECT}&$filter={expr}")
    assert sorted(v["id"] for v in values) == sorted([tracked["id"], other["id"]])
    emulator.add_member(tracked["id"], user["id"])
    emulator.add_member(untracked["id"], user["id"])
    assert [v["id"] for v in _round(graph, link)[0]] == [tracked["id"]]
    bad = graph.get(graph.base + "/groups/delta", params={"$filter": "startswith(displayName,'G')"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_select_members_alone_tracks_membership_only(graph, emulator):
    """`$select=members` (as Microsoft documents for membership changes): items carry only id and members@delta; a
    rename alone is not a change, a membership change is, and the selection stays in the links."""
    first, second = _new_user(emulator), _new_user(emulator)
    group = _group(emulator, [first["id"]])
    values, _, _ = _round(graph, graph.base + f"/groups/delta?$select=members&$filter=id eq '{group['id']}'")
    assert values == [{"id": group["id"], "members@delta": [{"@odata.type": USER, "id": first["id"]}]}]
    link = graph.get(graph.base + "/groups/delta", params={"$select": "members", "$deltatoken": "latest"}).json()[
        "@odata.deltaLink"]
    emulator.update_group(group["id"], displayName="Renamed, not selected")
    assert _round(graph, link)[0] == []
    emulator.add_member(group["id"], second["id"])
    emulator.update_group(group["id"], description="still not selected")
    assert _round(graph, link)[0] == [{"id": group["id"], "members@delta": [{"@odata.type": USER, "id": second["id"]}]}]
