"""Seeded groups and app roles, and their seed-file form: deterministic ids (uuid5 of the tenant), never the clock.

IT-Admins (security) holds one user and the nested Helpdesk-Leads group (two users) and is assigned Frontdesk.Admin,
so a Helpdesk-Leads member is an admin only through nesting (Entra gives app roles to direct group members only);
Helpdesk (security) holds two users without any app role; each department of the seeded users gets a Microsoft 365
group of its members.
"""
import uuid

from emulator.app_roles import assign, new_app_role
from emulator.directory import AppRegistration, Tenant
from emulator.group_store import GROUP, USER

_NAMESPACE = uuid.UUID("6a0c8f57-93b1-4d0e-b7a2-5e41c9d3f812")
FRONTDESK_ROLES = [("Frontdesk.Admin", "Frontdesk administrator", "Administers the Frontdesk portal."),
                   ("Frontdesk.Agent", "Frontdesk agent", "Works tickets in the Frontdesk portal.")]
CREATED = "2026-01-01T00:00:00Z"


def group_id(tenant: Tenant, name: str) -> str:
    """A seeded group's id: the same for one tenant and name in every run."""
    return str(uuid.uuid5(_NAMESPACE, f"{tenant.id}:group:{name}"))


def _security(tenant: Tenant, name: str, description: str):
    nickname = name.lower()
    return tenant.groups.add({"id": group_id(tenant, name), "displayName": name, "description": description,
                              "mailNickname": nickname, "createdDateTime": CREATED, "renewedDateTime": CREATED},
                             log=False)


def add_seeded_groups(tenant: Tenant) -> None:
    """The groups and Frontdesk app roles described above; users are taken in creation order."""
    users = list(tenant.users.values())
    frontdesk = next((a for a in tenant.apps.values() if a.display_name == "Frontdesk"), None)
    for app in tenant.apps.values():
        if app.display_name.startswith("Frontdesk"):
            app.app_roles = [new_app_role(app.client_id, v, d, desc) for v, d, desc in FRONTDESK_ROLES]
    if frontdesk is not None:
        frontdesk.group_membership_claims = "SecurityGroup"
    store = tenant.groups
    admins = _security(tenant, "IT-Admins", "IT administrators: Frontdesk admins.")
    leads = _security(tenant, "Helpdesk-Leads", "Helpdesk team leads (nested in IT-Admins).")
    helpdesk = _security(tenant, "Helpdesk", "Helpdesk staff (no Frontdesk app role).")
    for group, members in ((admins, users[2:3]), (leads, users[3:5]), (helpdesk, users[1:2] + users[5:6])):
        for user in members:
            store.add_member(group, user.id, USER, log=False)
    store.add_member(admins, leads.id, GROUP, log=False)
    by_department = {}
    for name in sorted({u.props["department"] for u in users if u.props.get("department")}):
        nickname = "".join(c for c in name.lower() if c.isalnum())
        by_department[name] = store.add({
            "id": group_id(tenant, f"department:{name}"), "displayName": f"{name} department",
            "description": f"Everyone in {name}.", "groupTypes": ["Unified"], "mailNickname": nickname,
            "mail": f"{nickname}@{tenant.domain}", "createdDateTime": CREATED, "renewedDateTime": CREATED}, log=False)
    for user in users:
        if user.props.get("department"):
            store.add_member(by_department[user.props["department"]], user.id, USER, log=False)
    if frontdesk is not None:
        assign(tenant, frontdesk, admins.id, "Frontdesk.Admin")


def load_app_extras(tenant: Tenant, app: AppRegistration, spec: dict) -> None:
    """A seed file app's appRoles ([{value, displayName, description, id}]) and groupMembershipClaims."""
    app.app_roles = [new_app_role(app.client_id, r["value"], r.get("displayName"), r.get("description"),
                                  r.get("allowedMemberTypes", ["User"]), r.get("id")) for r in spec.get("appRoles", [])]
    app.group_membership_claims = spec.get("groupMembershipClaims")


def load_groups(tenant: Tenant, spec: dict) -> None:
    """A seed file tenant's groups (members: user ids, UPNs or ids of groups listed in the file) and the apps'
    appRoleAssignments ([{principalId, appRole}]), once every user and group exists."""
    groups = spec.get("groups", [])
    created = [tenant.groups.add({k: v for k, v in g.items() if k != "members"}, log=False) for g in groups]
    for group, entry in zip(created, groups, strict=True):
        for member in entry.get("members", []):
            user = tenant.find_user(member)
            if user is not None:
                tenant.groups.add_member(group, user.id, USER, log=False)
            elif tenant.groups.get(member) is not None:
                tenant.groups.add_member(group, member, GROUP, log=False)
            else:
                raise ValueError(f"group {entry.get('displayName')!r}: no user or group {member!r}")
    for app_spec in spec.get("apps", []):
        app = tenant.apps[app_spec["clientId"]]
        for assignment in app_spec.get("appRoleAssignments", []):
            assign(tenant, app, assignment["principalId"], assignment["appRole"])
