"""Who is a portal admin, and why, from what Entra says: the app role in the ID token, or membership of a group an
admin mapped on the Roles page (nested groups count). Pure decisions first; the Graph reads they need follow.

No Flask imports: the sign-in service and the post-sync check both call this.
"""
from dataclasses import dataclass

from portal.entra.graph import GraphClient

ADMIN_APP_ROLE = "Frontdesk.Admin"  # built in: an Entra admin assigns it under Enterprise applications
GROUP_PAGE = 999


@dataclass(frozen=True)
class RoleGrant:
    """The portal role a person holds and the plain-language reason shown on the Roles page and in the audit log."""

    role: str
    reason: str
    group_id: str | None = None  # the mapped group that grants it; None for the app role


def groups_overage(claims: dict) -> bool:
    """Past 200 groups Microsoft leaves the groups claim out and points to Graph instead (_claim_names)."""
    names = claims.get("_claim_names")
    return isinstance(names, dict) and "groups" in names


def from_app_role(claims: dict) -> RoleGrant | None:
    """The app role assigned in Entra (directly, or to a group the person is a direct member of)."""
    roles = claims.get("roles")
    if isinstance(roles, list) and ADMIN_APP_ROLE in roles:
        return RoleGrant("admin", f"assigned the app role {ADMIN_APP_ROLE} in Entra")
    return None


def from_groups(group_ids, rules: dict[str, str]) -> RoleGrant | None:
    """The first mapped group (by name) among the person's groups, nested memberships included; `rules` maps a group
    id to its name."""
    mine = {g for g in group_ids if isinstance(g, str)} & set(rules)
    if not mine:
        return None
    group_id = min(mine, key=lambda g: (rules[g].lower(), g))
    return RoleGrant("admin", f"member of {rules[group_id]}", group_id)


def with_path(grant: RoleGrant, direct: dict[str, str], reaches) -> RoleGrant:
    """Add the nested group the membership comes through: "member of IT-Admins (via Helpdesk-Leads)". `direct` maps
    the person's direct groups to names; `reaches(group_id)` gives the groups a group is nested in."""
    if grant.group_id is None or grant.group_id in direct:
        return grant
    for group_id, name in sorted(direct.items(), key=lambda kv: kv[1].lower()):
        if grant.group_id in reaches(group_id):
            return RoleGrant(grant.role, f"{grant.reason} (via {name})", grant.group_id)
    return grant


def transitive_group_ids(graph: GraphClient, object_id: str) -> set[str]:
    """Every group the user is in, directly or through nesting (Graph transitiveMemberOf, all pages)."""
    url = f"/users/{object_id}/transitiveMemberOf/microsoft.graph.group"
    return {item["id"] for page in graph.pages(url, params={"$select": "id", "$top": str(GROUP_PAGE)})
            for item in page.get("value", []) if isinstance(item, dict) and isinstance(item.get("id"), str)}


def direct_groups(graph: GraphClient, object_id: str) -> dict[str, str]:
    """The user's direct groups, id to name (Graph memberOf)."""
    url = f"/users/{object_id}/memberOf/microsoft.graph.group"
    return {item["id"]: str(item.get("displayName") or item["id"])
            for page in graph.pages(url, params={"$select": "id,displayName", "$top": str(GROUP_PAGE)})
            for item in page.get("value", []) if isinstance(item, dict) and isinstance(item.get("id"), str)}


def groups_containing(graph: GraphClient, group_id: str) -> set[str]:
    """The groups a group is nested in, at any depth (Graph transitiveMemberOf of a group)."""
    url = f"/groups/{group_id}/transitiveMemberOf/microsoft.graph.group"
    return {item["id"] for page in graph.pages(url, params={"$select": "id", "$top": str(GROUP_PAGE)})
            for item in page.get("value", []) if isinstance(item, dict) and isinstance(item.get("id"), str)}


def resolve(claims: dict, rules: dict[str, str], graph: GraphClient) -> RoleGrant | None:
    """The person's portal role at sign-in: the app role, else a mapped group from the groups claim (or from Graph on
    overage, or when the app sends no groups claim), with the nested path for the Roles page."""
    grant = from_app_role(claims)
    if grant is not None or not rules:
        return grant
    claimed = claims.get("groups")
    if isinstance(claimed, list) and not groups_overage(claims):
        grant = from_groups(claimed, rules)
    else:
        grant = from_groups(transitive_group_ids(graph, claims["oid"]), rules)
    return grant and with_path(grant, direct_groups(graph, claims["oid"]), lambda g: groups_containing(graph, g))


def app_role_assigned(graph: GraphClient, client_id: str, object_id: str) -> bool:
    """Whether Entra still gives the user the admin app role of this app (to them, or to a direct group): the service
    principal's appRoles name the role's id, and the user's appRoleAssignments must hold it for that resource."""
    principal = graph.get_json(f"/servicePrincipals(appId='{client_id}')", params={"$select": "id,appRoles"})
    wanted = {r.get("id") for r in principal.get("appRoles") or [] if isinstance(r, dict)
              and r.get("value") == ADMIN_APP_ROLE and r.get("isEnabled", True)}
    return any(isinstance(a, dict) and a.get("resourceId") == principal.get("id") and a.get("appRoleId") in wanted
               for page in graph.pages(f"/users/{object_id}/appRoleAssignments") for a in page.get("value", []))


def still_granted(client_id: str, object_id: str, rules: dict[str, str], graph: GraphClient) -> RoleGrant | None:
    """At sync, from Graph alone (no token): nothing for an account disabled in Entra (it may be outside the sync
    scope, so never in the database), else the app role if still assigned, else a mapped group still held."""
    if graph.get_json(f"/users/{object_id}", params={"$select": "id,accountEnabled"}).get("accountEnabled") is False:
        return None
    if app_role_assigned(graph, client_id, object_id):
        return RoleGrant("admin", f"assigned the app role {ADMIN_APP_ROLE} in Entra")
    return from_groups(transitive_group_ids(graph, object_id), rules) if rules else None
