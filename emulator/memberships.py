"""graph.microsoft.com v1.0: GET /users/{id}/memberOf and /transitiveMemberOf, with the directory roles a user holds.

The emulator has no groups or administrative units, so a user's memberships are their directory roles and the
transitive list equals the direct one. As Graph does for objects the app may not read, an app that may list
memberships but not read directory roles gets each role with only its @odata.type and id (other properties null).
"""
from urllib.parse import quote, urlencode

from flask import g, request

from emulator.common import state
from emulator.directory_roles import role_object
from emulator.graph_common import GraphFailure, find_user_or_404, graph_blueprint, json_response, page_size, require

bp = graph_blueprint("memberships", __name__)
# Application permissions Graph accepts for listing another user's memberships.
MEMBER_OF_ROLES = {"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All",
                   "RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory"}
# Those that may also read directoryRole objects themselves.
ROLE_READ_ROLES = {"Directory.Read.All", "Directory.ReadWrite.All", "RoleManagement.Read.Directory",
                   "RoleManagement.ReadWrite.Directory"}
ROLE_PROPERTIES = ("id", "deletedDateTime", "description", "displayName", "roleTemplateId")


@bp.get("/users/<key>/memberOf")
def member_of(key):
    """The user's direct memberships (here: the directory roles they hold)."""
    return _memberships(key, "memberOf")


@bp.get("/users/<key>/transitiveMemberOf")
def transitive_member_of(key):
    """Direct and indirect memberships; without groups these are the direct ones."""
    return _memberships(key, "transitiveMemberOf")


def _memberships(key: str, relation: str):
    require(MEMBER_OF_ROLES)
    user = find_user_or_404(key)
    fields, top, start = _select(), page_size(), _start()
    granted = set(g.claims.get("roles", [])) | set(g.claims.get("scp", "").split())
    roles = [_shape(role_object(g.tenant.id, name), fields, bool(granted & ROLE_READ_ROLES))
             for name in user.directory_roles]
    context = f"{state().https_base}/v1.0/$metadata#directoryObjects" + (f"({','.join(fields)})" if fields else "")
    body = {"@odata.context": context}
    if start + top < len(roles):
        body["@odata.nextLink"] = _next_link(key, relation, start + top)
    body["value"] = roles[start:start + top]
    return json_response(body)


def _shape(role: dict, fields, readable: bool) -> dict:
    """The selected properties (all without $select); unreadable roles keep only type and id."""
    out = {"@odata.type": role["@odata.type"]}
    for name in fields or ROLE_PROPERTIES:
        out[name] = role[name] if readable or name == "id" else None
    return out


def _select() -> list[str] | None:
    raw = request.args.get("$select")
    if not raw:
        return None
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    for name in fields:
        if name not in ROLE_PROPERTIES:
            raise GraphFailure(400, "Request_BadRequest",
                               f"Could not find a property named '{name}' on type 'microsoft.graph.directoryObject'.")
    return fields if "id" in fields else ["id", *fields]


def _start() -> int:
    raw = request.args.get("$skiptoken")
    if not raw:
        return 0
    token = state().unseal(raw)
    if not isinstance(token, dict) or not isinstance(token.get("offset"), int):
        raise GraphFailure(400, "Request_BadRequest", "The specified page token value has expired or is invalid.")
    return token["offset"]


def _next_link(key: str, relation: str, offset: int) -> str:
    query = {k: v for k, v in request.args.items() if k != "$skiptoken"}
    query["$skiptoken"] = state().seal({"offset": offset})
    return f"{state().https_base}/v1.0/users/{quote(key, safe='@')}/{relation}?{urlencode(query)}"
