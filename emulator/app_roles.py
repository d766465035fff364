"""App roles an app registration declares, who is assigned them, and the roles and groups claims of its id tokens.

As Entra does, a role assigned to a group reaches the group's direct members only (nested members are not assigned:
an app that wants them reads the groups claim or Graph's transitiveMemberOf).
"""
import uuid

from emulator.directory import AppRegistration, Tenant, User
from emulator.group_store import GROUP, USER

OVERAGE_LIMIT = 200  # Entra's limit for the groups claim of a JWT; past it the claim points at Graph instead
GROUP_CLAIM_KINDS = ("None", "SecurityGroup", "All", "DirectoryRole", "ApplicationGroup")
_NAMESPACE = uuid.UUID("0b6f3f8e-2f5d-4b8a-9a51-3c2d7e9f1a40")
_SP_NAMESPACE = uuid.UUID("5d1f0c2a-8e4b-4d6f-9b3a-7c2e1f0a9d84")


def service_principal_id(client_id: str) -> str:
    """The app's service principal object id: stable per app, and not the app id (as in Entra)."""
    return str(uuid.uuid5(_SP_NAMESPACE, client_id))


def new_app_role(client_id: str, value: str, display_name: str | None = None, description: str | None = None,
                 member_types=("User",), role_id: str | None = None) -> dict:
    """An appRole as the application manifest holds it; the id is stable for one app and value."""
    return {"id": role_id or str(uuid.uuid5(_NAMESPACE, f"{client_id}:{value}")),
            "allowedMemberTypes": list(member_types), "description": description or display_name or value,
            "displayName": display_name or value, "isEnabled": True, "origin": "Application", "value": value}


def find_role(app: AppRegistration, key: str) -> dict:
    """An app role by id or value, else LookupError."""
    for role in app.app_roles:
        if key in (role["id"], role["value"]):
            return role
    raise LookupError(f"app role {key!r} not declared by {app.display_name}")


def assign(tenant: Tenant, app: AppRegistration, principal_id: str, role_key: str) -> dict:
    """Assign a user or group to an app role; an existing identical assignment is Graph's conflict (ValueError)."""
    role = find_role(app, role_key)
    user = tenant.find_user(principal_id)
    group = tenant.groups.get(principal_id)
    if user is None and group is None:
        raise LookupError(f"principal {principal_id!r} not found")
    principal = user or group
    with tenant.lock:
        if any(a["principalId"] == principal.id and a["appRoleId"] == role["id"] for a in app.role_assignments):
            raise ValueError("Permission being assigned already exists on the object")
        assignment = {"id": str(uuid.uuid5(_NAMESPACE, f"{app.client_id}:{principal.id}:{role['id']}")),
                      "appRoleId": role["id"], "principalId": principal.id,
                      "principalType": "User" if user else "Group",
                      "principalDisplayName": principal.props.get("displayName"),
                      "resourceDisplayName": app.display_name,
                      "resourceId": service_principal_id(app.client_id)}
        app.role_assignments.append(assignment)
    return assignment


def unassign(tenant: Tenant, app: AppRegistration, principal_id: str, role_key: str | None = None) -> int:
    """Remove a principal's assignment to one role (or all its roles on the app); returns how many went."""
    role_id = find_role(app, role_key)["id"] if role_key else None
    with tenant.lock:
        keep = [a for a in app.role_assignments
                if a["principalId"] != principal_id or (role_id is not None and a["appRoleId"] != role_id)]
        removed = len(app.role_assignments) - len(keep)
        app.role_assignments = keep
    if not removed:
        raise LookupError(f"no app role assignment for {principal_id!r}")
    return removed


def forget_principal(tenant: Tenant, principal_id: str) -> None:
    """A deleted user or group loses its assignments on every app."""
    with tenant.lock:
        for app in tenant.apps.values():
            app.role_assignments = [a for a in app.role_assignments if a["principalId"] != principal_id]


def _assigned_roles(tenant: Tenant, app: AppRegistration, user: User) -> list[dict]:
    """Assignments that reach the user: to the user, or to a group the user is a direct member of."""
    direct_groups = set(tenant.groups.member_of(user.id))
    return [a for a in app.role_assignments if a["principalId"] == user.id or a["principalId"] in direct_groups]


def is_assigned(tenant: Tenant, app: AppRegistration, user: User) -> bool:
    """For "assignment required": listed by the control API, or reached by an app role assignment."""
    return user.id in app.assigned_user_ids or bool(_assigned_roles(tenant, app, user))


def role_values(tenant: Tenant, app: AppRegistration, user: User) -> list[str]:
    """The `roles` claim: values of the enabled app roles assigned to the user, each once."""
    enabled = {r["id"]: r["value"] for r in app.app_roles if r.get("isEnabled", True) and r.get("value")}
    values = {enabled[a["appRoleId"]] for a in _assigned_roles(tenant, app, user) if a["appRoleId"] in enabled}
    return sorted(values)


def group_claim_ids(tenant: Tenant, app: AppRegistration, user: User) -> list[str] | None:
    """The groups claim as groupMembershipClaims selects it (None: no claim); directory roles are not included."""
    kind = app.group_membership_claims
    if not kind or kind == "None" or kind == "DirectoryRole":
        return None
    ids = tenant.groups.transitive_member_of(user.id)
    if kind == "SecurityGroup":
        return [i for i in ids if tenant.groups.get(i).props.get("securityEnabled")]
    if kind == "ApplicationGroup":
        assigned = {a["principalId"] for a in app.role_assignments if a["principalType"] == "Group"}
        return [i for i in ids if i in assigned]
    return ids


def id_token_claims(tenant: Tenant, app: AppRegistration, user: User, graph_base: str) -> dict:
    """`roles` when any role is assigned, `groups` when asked for, or the overage pointer past 200 groups."""
    claims = {}
    roles = role_values(tenant, app, user)
    if roles:
        claims["roles"] = roles
    groups = group_claim_ids(tenant, app, user)
    if groups and len(groups) > OVERAGE_LIMIT:
        claims["_claim_names"] = {"groups": "src1"}
        claims["_claim_sources"] = {"src1": {"endpoint": f"{graph_base}/v1.0/users/{user.id}/getMemberObjects"}}
    elif groups:
        claims["groups"] = groups
    return claims


def member_kind(tenant: Tenant, member_id: str) -> tuple[str, str]:
    """(id, USER or GROUP) of a live user (by id or UPN) or group, else LookupError."""
    user = tenant.find_user(member_id)
    if user is not None:
        return user.id, USER
    if tenant.groups.get(member_id) is not None:
        return member_id, GROUP
    raise LookupError(f"no user or group {member_id!r}")
