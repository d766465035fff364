"""users/delta: initial round, deltaLink rounds with every kind of change, tracked properties, bad tokens."""
import uuid

from tests.emulator.test_graph import _new_user

SELECT = "id,displayName,accountEnabled,department,userPrincipalName"


def _round(graph, url, page_size=None):
    """Follow nextLinks to the deltaLink; return (values, deltaLink, pages)."""
    headers = {"Prefer": f"odata.maxpagesize={page_size}"} if page_size else {}
    values, pages = [], 0
    while True:
        body = graph.get(url, headers=headers).json()
        assert "error" not in body, body
        values += body["value"]
        pages += 1
        if "@odata.deltaLink" in body:
            assert "@odata.nextLink" not in body
            return values, body["@odata.deltaLink"], pages
        url = body["@odata.nextLink"]


def _latest(graph):
    body = graph.get(graph.base + "/users/delta", params={"$select": SELECT, "$deltatoken": "latest"}).json()
    assert body["value"] == []
    return body["@odata.deltaLink"]


def test_initial_round_returns_every_live_user(graph):
    """The first round pages through all live users and ends with a deltaLink."""
    total = int(graph.get(graph.base + "/users/$count", headers={"ConsistencyLevel": "eventual"}).text)
    values, link, pages = _round(graph, graph.base + f"/users/delta?$select={SELECT}", page_size=50)
    assert len(values) == len({v["id"] for v in values}) == total
    assert pages == -(-total // 50) and "$deltatoken=" in link
    assert all(set(v) == set(SELECT.split(",")) for v in values)


def test_no_change_round_is_empty(graph):
    """A deltaLink used with no change since returns nothing and a fresh deltaLink."""
    values, link, _ = _round(graph, _latest(graph))
    assert values == [] and link


def test_each_kind_of_change_appears_once(graph, emulator):
    """Create, change, disable, soft-delete, restore and hard-delete all show in the next round."""
    changed, disabled, soft, gone = (_new_user(emulator) for _ in range(4))
    restored = _new_user(emulator)
    emulator.soft_delete(restored["id"])
    link = _latest(graph)
    created = _new_user(emulator, department="Legal")
    emulator.update_user(changed["id"], department="Finance")
    emulator.update_user(disabled["id"], accountEnabled=False)
    emulator.soft_delete(soft["id"])
    emulator.restore(restored["id"])
    emulator.hard_delete(gone["id"])
    values, link2, _ = _round(graph, link)
    by_id = {v["id"]: v for v in values}
    assert len(values) == len(by_id) == 6
    assert by_id[created["id"]]["department"] == "Legal" and set(by_id[created["id"]]) == set(SELECT.split(","))
    assert by_id[changed["id"]] == {"id": changed["id"], "department": "Finance"}
    assert by_id[disabled["id"]] == {"id": disabled["id"], "accountEnabled": False}
    assert by_id[soft["id"]] == {"id": soft["id"], "@removed": {"reason": "changed"}}
    assert by_id[gone["id"]] == {"id": gone["id"], "@removed": {"reason": "deleted"}}
    assert by_id[restored["id"]]["userPrincipalName"] == restored["userPrincipalName"]
    assert _round(graph, link2)[0] == []


def test_changes_to_unselected_properties_are_not_tracked(graph, emulator):
    """Only $select-ed properties are tracked: a jobTitle change does not appear."""
    user = _new_user(emulator)
    link = _latest(graph)
    emulator.update_user(user["id"], jobTitle="Chief Tester")
    assert _round(graph, link)[0] == []


def test_changes_round_pages(graph, emulator):
    """A round with more changes than the page size is paged with nextLinks."""
    link = _latest(graph)
    ids = {_new_user(emulator)["id"] for _ in range(7)}
    values, _, pages = _round(graph, link, page_size=3)
    assert {v["id"] for v in values} == ids and pages == 3


def test_unknown_token_is_sync_state_not_found(graph):
    """A made-up token gets 400 syncStateNotFound."""
    response = graph.get(graph.base + "/users/delta", params={"$deltatoken": uuid.uuid4().hex})
    assert response.status_code == 400 and response.json()["error"]["code"] == "syncStateNotFound"


def test_expired_tokens_need_resync(graph, emulator):
    """After the emulator expires tokens, a deltaLink gets 410 resyncRequired."""
    link = _latest(graph)
    emulator.expire_delta_tokens()
    response = graph.get(link)
    assert response.status_code == 410 and response.json()["error"]["code"] == "resyncRequired"
