"""graph.microsoft.com v1.0: a user's memberships (memberOf, transitiveMemberOf) and getMemberObjects/getMemberGroups.

Memberships are the directory roles the user holds, then the groups: direct ones for memberOf, and for
transitiveMemberOf also those reached through nested groups (each once). As Graph does for objects the app may not
read, an app that may list memberships but not read an object's type gets it with only @odata.type and id.
"""
from urllib.parse import quote

from flask import g, request

from emulator.common import state
from emulator.directory_objects import GROUP_READ_ROLES, GROUP_TYPE, granted, paged
from emulator.directory_roles import role_object
from emulator.graph_common import GraphFailure, find_user_or_404, graph_blueprint, json_response, page_size, require
from emulator.group_store import GROUP_PROPERTIES

bp = graph_blueprint("memberships", __name__)
# Application permissions Graph accepts for listing another user's memberships.
MEMBER_OF_ROLES = {"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All",
                   "RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory"}
# Those that may also read directoryRole objects themselves.
ROLE_READ_ROLES = {"Directory.Read.All", "Directory.ReadWrite.All", "RoleManagement.Read.Directory",
                   "RoleManagement.ReadWrite.Directory"}
ROLE_PROPERTIES = ("id", "deletedDateTime", "description", "displayName", "roleTemplateId")


@bp.get("/users/<key>/memberOf")
@bp.get("/users/<key>/memberOf/microsoft.graph.group", defaults={"only_groups": True})
def member_of(key, only_groups=False):
    """The user's direct memberships: directory roles, then groups (only groups with the type cast)."""
    return _memberships(key, "memberOf", only_groups)


@bp.get("/users/<key>/transitiveMemberOf")
@bp.get("/users/<key>/transitiveMemberOf/microsoft.graph.group", defaults={"only_groups": True})
def transitive_member_of(key, only_groups=False):
    """Directory roles, then every group the user is in directly or through nested groups."""
    return _memberships(key, "transitiveMemberOf", only_groups)


@bp.get("/groups/<key>/memberOf")
@bp.get("/groups/<key>/memberOf/microsoft.graph.group", defaults={"only_groups": True})
def group_member_of(key, only_groups=False):
    """The groups a group is directly nested in."""
    return _group_memberships(key, "memberOf")


@bp.get("/groups/<key>/transitiveMemberOf")
@bp.get("/groups/<key>/transitiveMemberOf/microsoft.graph.group", defaults={"only_groups": True})
def group_transitive_member_of(key, only_groups=False):
    """Every group a group is nested in, at any depth."""
    return _group_memberships(key, "transitiveMemberOf")


def _memberships(key: str, relation: str, only_groups: bool = False):
    require(MEMBER_OF_ROLES)
    user = find_user_or_404(key)
    fields = _select()
    store = g.tenant.groups
    group_ids = store.member_of(user.id) if relation == "memberOf" else store.transitive_member_of(user.id)
    roles = [] if only_groups else [("role", name) for name in user.directory_roles]
    cast = "/microsoft.graph.group" if only_groups else ""
    return _listing(roles + [("group", gid) for gid in group_ids], fields, f"users/{quote(key, safe='@')}/{relation}{cast}",
                    "groups" if only_groups else "directoryObjects")


def _group_memberships(key: str, relation: str):
    require(MEMBER_OF_ROLES)
    store = g.tenant.groups
    if store.get(key) is None:
        raise GraphFailure(404, "Request_ResourceNotFound", f"Resource '{key}' does not exist or one of its queried "
                                                             "reference-property objects are not present.")
    group_ids = store.member_of(key) if relation == "memberOf" else store.transitive_member_of(key)
    return _listing([("group", gid) for gid in group_ids], _select(), f"groups/{quote(key)}/{relation}", "directoryObjects")


def _listing(items: list, fields, path: str, entity: str):
    context = entity + (f"({','.join(fields)})" if fields else "")
    rights = granted()
    return json_response(paged(items, page_size(), path, context, lambda item: _render(item, fields, rights)))


def _render(item, fields, rights: set) -> dict:
    kind, key = item
    if kind == "role":
        obj, names, readable = role_object(g.tenant.id, key), ROLE_PROPERTIES, bool(rights & ROLE_READ_ROLES)
    else:
        props, names, readable = g.tenant.groups.get(key).props, GROUP_PROPERTIES, bool(rights & GROUP_READ_ROLES)
        obj = dict(props, **{"@odata.type": GROUP_TYPE})
    out = {"@odata.type": obj["@odata.type"]}
    for name in fields or names:
        if name in names:
            out[name] = obj[name] if readable or name == "id" else None
    return out


def _select() -> list[str] | None:
    raw = request.args.get("$select")
    if not raw:
        return None
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    for name in fields:
        if name not in ROLE_PROPERTIES and name not in GROUP_PROPERTIES:
            raise GraphFailure(400, "Request_BadRequest",
                               f"Could not find a property named '{name}' on type 'microsoft.graph.directoryObject'.")
    return fields if "id" in fields else ["id", *fields]


@bp.post("/users/<key>/getMemberObjects")
def get_member_objects(key):
    """Ids of every group (transitively) and directory role the user is in: where the groups overage points."""
    return _member_ids(key, with_roles=True)


@bp.post("/users/<key>/getMemberGroups")
def get_member_groups(key):
    """Ids of every group the user is in, directly or through nested groups."""
    return _member_ids(key, with_roles=False)


def _member_ids(key: str, with_roles: bool):
    require(MEMBER_OF_ROLES)
    user = find_user_or_404(key)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("securityEnabledOnly"), bool):
        raise GraphFailure(400, "Request_BadRequest", "The request body must hold 'securityEnabledOnly' (a boolean).")
    store = g.tenant.groups
    ids = [gid for gid in store.transitive_member_of(user.id)
           if not body["securityEnabledOnly"] or store.get(gid).props.get("securityEnabled")]
    if with_roles:
        ids += [role_object(g.tenant.id, name)["id"] for name in user.directory_roles]
    return json_response({"@odata.context": f"{state().https_base}/v1.0/$metadata#Collection(Edm.String)",
                          "value": ids})
