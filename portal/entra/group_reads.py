"""Microsoft Graph reads behind group-scoped sync and the group picker: search with member counts, one group, a group's
transitive user members, users by id, and groups/delta with members@delta."""
from collections.abc import Iterator

from portal.entra.graph import GraphClient, GraphError

EVENTUAL = {"ConsistencyLevel": "eventual"}  # $search and $count need it
IDS_PER_FILTER = 15  # ids per `id in (...)`: Graph caps the values of one `in` clause
GROUP_SELECT = "id,displayName,description,groupTypes,securityEnabled,mail"


def search_groups(graph: GraphClient, text: str, top: int = 10) -> list[dict]:
    """Groups whose name has a word starting with `text` (Graph's $search), or the first groups when it is empty;
    `text` must already be free of quotes and backslashes."""
    params = {"$select": GROUP_SELECT, "$top": str(top)}
    if text:
        params["$search"] = f'"displayName:{text}"'
    value = graph.get_json("/groups", params=params, headers=EVENTUAL).get("value")
    return [g for g in value if isinstance(g, dict) and isinstance(g.get("id"), str)] if isinstance(value, list) else []


def user_member_count(graph: GraphClient, group_id: str) -> int | None:
    """How many users are in the group, nested members included; None when Graph does not say."""
    try:
        text = graph.request("GET", f"/groups/{group_id}/transitiveMembers/microsoft.graph.user/$count",
                             headers=EVENTUAL).text.strip()
    except GraphError:
        return None
    return int(text) if text.isdigit() else None


def find_group(graph: GraphClient, group_id: str) -> dict | None:
    """One group's id and name, or None when the tenant has no such group (deleted, or never was)."""
    try:
        return graph.get_json(f"/groups/{group_id}", params={"$select": "id,displayName"})
    except GraphError as exc:
        if exc.http_status == 404:
            return None
        raise


def transitive_users(graph: GraphClient, group_id: str, select: list[str], top: int) -> Iterator[dict]:
    """Pages of the group's users, nested members included, with the mapped properties."""
    params = {"$select": ",".join(select), "$top": str(top)}
    return graph.pages(f"/groups/{group_id}/transitiveMembers/microsoft.graph.user", params)


def nested_group_ids(graph: GraphClient, group_id: str) -> list[str]:
    """The ids of every group nested in this one, at any depth."""
    pages = graph.pages(f"/groups/{group_id}/transitiveMembers/microsoft.graph.group", {"$select": "id", "$top": "999"})
    return [g["id"] for page in pages for g in page.get("value") or [] if isinstance(g, dict) and g.get("id")]


def users_by_id(graph: GraphClient, ids: list[str], select: list[str], expand_manager: bool) -> Iterator[dict]:
    """Pages of the given users (ids already validated as GUIDs), IDS_PER_FILTER at a time."""
    for start in range(0, len(ids), IDS_PER_FILTER):
        quoted = ", ".join(f"'{i}'" for i in ids[start:start + IDS_PER_FILTER])
        params = {"$filter": f"id in ({quoted})", "$select": ",".join(select)}
        if expand_manager:
            params["$expand"] = "manager($select=id)"
        yield from graph.pages("/users", params)


def latest_groups_delta_link(graph: GraphClient) -> str:
    """A groups/delta link for 'now' that tracks membership only ($select=members), taken before a listing."""
    body = graph.get_json("/groups/delta", params={"$select": "members", "$deltatoken": "latest"})
    link = body.get("@odata.deltaLink")
    if not link:
        raise GraphError("Microsoft Graph did not return a deltaLink for groups.", code="bad_response")
    return link
