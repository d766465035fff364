"""Graph plumbing for lists that mix users, groups and roles (members, memberOf): shapes, $select, offset paging."""
from urllib.parse import urlencode

from flask import g, request

from emulator.common import state
from emulator.directory import DEFAULT_PROPERTIES, READ_ROLES, USER_PROPERTIES
from emulator.graph_common import GraphFailure, render_user, require_eventual
from emulator.group_store import GROUP_PROPERTIES, Group

# Application permissions that may read groups and their members.
GROUP_READ_ROLES = {"GroupMember.Read.All", "GroupMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All",
                    "Directory.Read.All", "Directory.ReadWrite.All"}
USER_TYPE, GROUP_TYPE = "#microsoft.graph.user", "#microsoft.graph.group"


def granted() -> set:
    """The token's application roles and delegated scopes."""
    return set(g.claims.get("roles", [])) | set(g.claims.get("scp", "").split())


def wants_count() -> bool:
    """$count=true in the query (then ConsistencyLevel: eventual is required)."""
    if request.args.get("$count", "").lower() != "true":
        return False
    require_eventual()
    return True


def group_not_found(key: str) -> GraphFailure:
    return GraphFailure(404, "Request_ResourceNotFound", f"Resource '{key}' does not exist or one of its queried "
                        "reference-property objects are not present.")


def find_group_or_404(key: str) -> Group:
    group = g.tenant.groups.get(key)
    if group is None:
        raise group_not_found(key)
    return group


def select_for(allowed, type_name: str) -> list[str] | None:
    """$select checked against `allowed` (id always included), None without one."""
    raw = request.args.get("$select")
    if not raw:
        return None
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    for name in fields:
        if name not in allowed:
            raise GraphFailure(400, "Request_BadRequest",
                               f"Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'.")
    return fields if "id" in fields else ["id", *fields]


def render_group(group: Group, fields=None) -> dict:
    return {name: group.props.get(name) for name in fields or GROUP_PROPERTIES}


def render_member(member_id: str, kind: str, fields=None, typed: bool = True) -> dict:
    """A user or group as a directoryObject list shows it: @odata.type first (unless the URL cast the type), then
    the selected properties; a user the app may not read has only its id (the rest null), as Graph does."""
    tenant = g.tenant
    out = {"@odata.type": USER_TYPE if kind == "user" else GROUP_TYPE} if typed else {}
    if kind == "group":
        group = tenant.groups.get(member_id)
        names = [f for f in fields or GROUP_PROPERTIES if f in GROUP_PROPERTIES or f == "id"]
        out.update({n: group.props.get(n) for n in names})
        return out
    user = tenant.users[member_id]
    names = [f for f in fields or DEFAULT_PROPERTIES if f in USER_PROPERTIES]
    if not granted() & READ_ROLES:
        out.update({n: user.id if n == "id" else None for n in names})
        return out
    out.update(render_user(tenant, user, names))
    return out


def offset() -> int:
    """Where a page starts: the sealed offset in $skiptoken, else 0."""
    raw = request.args.get("$skiptoken")
    if not raw:
        return 0
    token = state().unseal(raw)
    if not isinstance(token, dict) or not isinstance(token.get("offset"), int):
        raise GraphFailure(400, "Request_BadRequest", "The specified page token value has expired or is invalid.")
    return token["offset"]


def paged(items: list, top: int, path: str, context: str, render) -> dict:
    """One page of `items` (rendered), with @odata.nextLink to the next offset and @odata.count when asked."""
    start = offset()
    body = {"@odata.context": f"{state().https_base}/v1.0/$metadata#{context}"}
    if wants_count():
        body["@odata.count"] = len(items)
    if start + top < len(items):
        query = {k: v for k, v in request.args.items() if k != "$skiptoken"}
        query["$skiptoken"] = state().seal({"offset": start + top})
        body["@odata.nextLink"] = f"{state().https_base}/v1.0/{path}?{urlencode(query)}"
    body["value"] = [render(item) for item in items[start:start + top]]
    return body
