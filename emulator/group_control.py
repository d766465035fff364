"""Control API for groups and app roles (bearer control token): groups, membership, role assignments, group claims."""
from flask import Blueprint, jsonify, request

from emulator import app_roles
from emulator.common import now_iso, state
from emulator.control import check_control_token, control_invalid, control_not_found, control_tenant
from emulator.group_store import WRITABLE_GROUP_PROPERTIES

bp = Blueprint("group_control", __name__, url_prefix="/_emulator")

# The same token check, tenant lookup and error answers as the rest of the control API.
bp.before_request(check_control_token)
bp.register_error_handler(LookupError, control_not_found)
bp.register_error_handler(ValueError, control_invalid)


def _body() -> dict:
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ValueError("Send a JSON object.")
    return body


def _group(tenant, key):
    group = tenant.groups.get(key)
    if group is None:
        raise LookupError(f"group {key!r} not found")
    return group


def _describe(group) -> dict:
    return {"props": group.props, "members": [{"id": m, "type": k} for m, k in group.members.items()]}


@bp.post("/groups")
def create_group():
    """Create a group (Graph properties; `members`: user ids, UPNs or group ids to add at once)."""
    body = _body()
    tenant = control_tenant(body)
    members = body.get("members", [])
    if not isinstance(members, list):
        raise ValueError("members must be a list of user or group ids")
    resolved = [app_roles.member_kind(tenant, m) for m in members]
    with tenant.lock:
        props = {k: v for k, v in body.items() if k in WRITABLE_GROUP_PROPERTIES or k == "id"}
        props["createdDateTime"] = props["renewedDateTime"] = now_iso() + "Z"
        group = tenant.groups.add(props)
        for member_id, kind in resolved:
            tenant.groups.add_member(group, member_id, kind)
    return jsonify(_describe(group)), 201


@bp.get("/groups/<key>")
def read_group(key):
    return jsonify(_describe(_group(control_tenant({}), key)))


@bp.patch("/groups/<key>")
def change_group(key):
    """Change a group's properties (logged for groups/delta)."""
    body = _body()
    tenant = control_tenant(body)
    group = _group(tenant, key)
    tenant.groups.update(group, {k: v for k, v in body.items() if k in WRITABLE_GROUP_PROPERTIES})
    return jsonify(_describe(group))


@bp.delete("/groups/<key>")
def delete_group(key):
    """Delete a group: it leaves its parent groups and loses its app role assignments."""
    tenant = control_tenant({})
    with tenant.lock:
        tenant.groups.delete(_group(tenant, key))
        app_roles.forget_principal(tenant, key)
    return jsonify(ok=True)


@bp.post("/groups/<key>/members")
def add_member(key):
    """Add a user (id or UPN) or a group (id) as a direct member: {"id": ...}."""
    body = _body()
    tenant = control_tenant(body)
    group = _group(tenant, key)
    member_id, kind = app_roles.member_kind(tenant, str(body.get("id", "")))
    tenant.groups.add_member(group, member_id, kind)
    return jsonify(_describe(group)), 201


@bp.delete("/groups/<key>/members/<member>")
def remove_member(key, member):
    tenant = control_tenant({})
    group = _group(tenant, key)
    user = tenant.find_user(member, include_deleted=True)
    tenant.groups.remove_member(group, user.id if user else member)
    return jsonify(_describe(group))


def _app(client_id):
    tenant, app = state().directory.find_app(client_id)
    if app is None:
        raise LookupError(f"app {client_id!r} not found")
    return tenant, app


@bp.get("/apps/<client_id>/app-roles")
def read_app_roles(client_id):
    """The app's declared roles, its assignments and its groupMembershipClaims."""
    _, app = _app(client_id)
    return jsonify(appRoles=app.app_roles, appRoleAssignments=app.role_assignments,
                   groupMembershipClaims=app.group_membership_claims)


@bp.post("/apps/<client_id>/app-roles")
def declare_app_role(client_id):
    """Declare an app role: {"value", "displayName", "description", "allowedMemberTypes", "id"}."""
    body = _body()
    _, app = _app(client_id)
    if not isinstance(body.get("value"), str) or not body["value"]:
        raise ValueError("value is required")
    if any(r["value"] == body["value"] for r in app.app_roles):
        raise ValueError(f"app role {body['value']!r} already declared")
    role = app_roles.new_app_role(app.client_id, body["value"], body.get("displayName"), body.get("description"),
                                  body.get("allowedMemberTypes", ["User"]), body.get("id"))
    app.app_roles.append(role)
    return jsonify(role), 201


@bp.post("/apps/<client_id>/role-assignments")
def assign_role(client_id):
    """Assign a user or group to an app role: {"principalId": user id, UPN or group id, "appRole": value or id}."""
    body = _body()
    tenant, app = _app(client_id)
    return jsonify(app_roles.assign(tenant, app, str(body.get("principalId", "")), str(body.get("appRole", "")))), 201


@bp.delete("/apps/<client_id>/role-assignments")
def unassign_role(client_id):
    """Remove ?principalId=...'s assignment to ?appRole= (value or id), or to every role of the app without it."""
    tenant, app = _app(client_id)
    principal = request.args.get("principalId", "")
    user = tenant.find_user(principal, include_deleted=True)
    removed = app_roles.unassign(tenant, app, user.id if user else principal, request.args.get("appRole"))
    return jsonify(removed=removed)
