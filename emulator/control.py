"""The control API under /_emulator (bearer control token): change the directory and switch faults."""
import hmac
import time

from flask import Blueprint, jsonify, request

from emulator.app_roles import GROUP_CLAIM_KINDS, forget_principal
from emulator.common import state
from emulator.directory import USER_PROPERTIES
from emulator.tampering import KINDS as TAMPER_KINDS

bp = Blueprint("control", __name__, url_prefix="/_emulator")


@bp.before_request
def check_control_token():
    """Every control blueprint (this one and the sign-in log's) needs the bearer token from the info file."""
    header = request.headers.get("Authorization", "")
    if not hmac.compare_digest(header, f"Bearer {state().control_token}"):
        return jsonify(error="unauthorized", message="The control API needs the control token from the info file."), 401
    return None


def control_tenant(body: dict | None = None):
    """The tenant a control call names (?tenant= or "tenant" in the body), else the first one."""
    if body is None:
        body = request.get_json(silent=True)
    key = request.args.get("tenant") or (body.get("tenant") if isinstance(body, dict) else None)
    tenants = state().directory.tenants
    tenant = state().directory.find_tenant(key) if key else next(iter(tenants.values()))
    if tenant is None:
        raise LookupError(f"tenant {key!r} not found")
    return tenant


def _user(tenant, key, include_deleted=True):
    user = tenant.find_user(key, include_deleted=include_deleted)
    if user is None:
        raise LookupError(f"user {key!r} not found")
    return user


@bp.errorhandler(LookupError)
def control_not_found(exc):
    return jsonify(error="not_found", message=str(exc)), 404


@bp.errorhandler(ValueError)
def control_invalid(exc):
    return jsonify(error="invalid", message=str(exc)), 400


def _describe(user) -> dict:
    return {"props": user.props, "soft_deleted": user.soft_deleted, "forceChangePasswordNextSignIn":
            user.force_change_password, "locked_until": user.locked_until, "failed_sign_ins": user.failed_sign_ins,
            "sessions_revoked_at": user.sessions_revoked_at, "password_changed_at": user.password_changed_at,
            "manager_id": user.manager_id, "directory_roles": user.directory_roles}


def _role_names(value) -> list:
    """directoryRoles must be a list of role display names (e.g. "Global Administrator")."""
    if not isinstance(value, list) or not all(isinstance(name, str) and name.strip() for name in value):
        raise ValueError("directoryRoles must be a list of role names, such as [\"Global Administrator\"]")
    return list(value)


@bp.post("/users")
def create_user():
    """Create a user (props as Graph names them, plus password)."""
    body = request.get_json(force=True)
    tenant = control_tenant()
    props = {k: v for k, v in body.items() if k in USER_PROPERTIES}
    props.setdefault("accountEnabled", True)
    props.setdefault("userType", "Member")
    props.setdefault("displayName", props.get("userPrincipalName", "New user"))
    if "userPrincipalName" not in props:
        raise ValueError("userPrincipalName is required")
    user = tenant.add_user(props, body.get("password"), force_change_password=body.get("forceChangePasswordNextSignIn", False),
                           directory_roles=_role_names(body.get("directoryRoles", [])), manager_id=body.get("managerId"))
    return jsonify(_describe(user)), 201


@bp.get("/users/<key>")
def read_user(key):
    """Everything the emulator knows about a user (never the password)."""
    return jsonify(_describe(_user(control_tenant(), key)))


@bp.patch("/users/<key>")
def change_user(key):
    """Change properties, password, manager or sign-in state."""
    body = request.get_json(force=True)
    tenant = control_tenant()
    user = _user(tenant, key)
    roles = _role_names(body["directoryRoles"]) if "directoryRoles" in body else None
    with tenant.lock:
        tenant.update_user(user, {k: v for k, v in body.items() if k in USER_PROPERTIES and k != "id"})
        if "password" in body:
            user.set_password(body["password"], body.get("forceChangePasswordNextSignIn", False))
        if "managerId" in body:
            tenant.set_manager(user, body["managerId"])
        if body.get("unlock"):
            user.locked_until, user.failed_sign_ins = 0.0, 0
        if roles is not None:
            user.directory_roles = roles
    return jsonify(_describe(user))


@bp.post("/users/<key>/soft-delete")
def soft_delete(key):
    tenant = control_tenant()
    tenant.soft_delete(_user(tenant, key))
    return jsonify(ok=True)


@bp.post("/users/<key>/restore")
def restore(key):
    tenant = control_tenant()
    tenant.restore(_user(tenant, key))
    return jsonify(ok=True)


@bp.delete("/users/<key>")
def hard_delete(key):
    tenant = control_tenant()
    user = _user(tenant, key)
    with tenant.lock:
        tenant.hard_delete(user)
        forget_principal(tenant, user.id)
    return jsonify(ok=True)


@bp.patch("/apps/<client_id>")
def change_app(client_id):
    """Grant or revoke permissions, rotate or expire the secret, require assignment, set consent."""
    body = request.get_json(force=True)
    tenant, app = state().directory.find_app(client_id)
    if app is None:
        raise LookupError(f"app {client_id!r} not found")
    app.roles = (app.roles | set(body.get("grant", []))) - set(body.get("revoke", []))
    if "roles" in body:
        app.roles = set(body["roles"])
    if "client_secret" in body:
        app.retired_secrets.append(app.client_secret)
        app.client_secret = body["client_secret"]
    if "secret_expires_in" in body:
        value = body["secret_expires_in"]
        app.secret_expires_at = None if value is None else time.time() + float(value)
    for key in ("assignment_required", "user_consent", "redirect_uris", "allow_any_loopback_redirect"):
        if key in body:
            setattr(app, key, body[key])
    if "assigned_user_ids" in body:
        app.assigned_user_ids = set(body["assigned_user_ids"])
    if "directory_roles" in body:
        app.directory_roles = set(body["directory_roles"])
    if "groupMembershipClaims" in body:
        app.group_membership_claims = _group_claims(body["groupMembershipClaims"])
    return jsonify(client_id=app.client_id, roles=sorted(app.roles), secret_expires_at=app.secret_expires_at,
                   groupMembershipClaims=app.group_membership_claims)


def _group_claims(value):
    """groupMembershipClaims as the manifest spells it; null means no groups claim."""
    if value is not None and value not in GROUP_CLAIM_KINDS:
        raise ValueError(f"groupMembershipClaims must be null or one of {', '.join(GROUP_CLAIM_KINDS)}")
    return value


@bp.put("/faults")
def set_faults():
    """Replace the fault settings (an empty object switches everything off)."""
    spec = request.get_json(force=True) or {}
    state().faults.configure(spec)
    state().notification_faults.configure(spec.get("notifications") or {})
    return jsonify(state().faults.describe() | {"notifications": state().notification_faults.describe()})


@bp.put("/raw-users")
def set_raw_users():
    """Test hook: raw objects served verbatim at the end of /users and /users/delta (an empty list removes them)."""
    body = request.get_json(force=True, silent=True)
    users = body.get("users") if isinstance(body, dict) else None
    if not isinstance(users, list):
        return jsonify(error="Send {\"users\": [...]}"), 400
    state().raw_users = users
    return jsonify(count=len(users))


@bp.put("/id-token-tamper")
def set_id_token_tamper():
    """Test hook: break the next id token the token endpoint issues in the named way (null disarms)."""
    kind = (request.get_json(force=True, silent=True) or {}).get("kind")
    if kind is not None and kind not in TAMPER_KINDS:
        raise ValueError(f"kind must be one of {', '.join(TAMPER_KINDS)}")
    state().tokens.tamper_next_id_token(kind)
    return jsonify(kind=kind)


@bp.post("/keys/rotate")
def rotate_signing_key():
    """Sign with a new key from now on; the old keys stay in the JWKS (a Microsoft key rollover)."""
    return jsonify(kid=state().tokens.rotate())


@bp.post("/delta/expire")
def expire_delta_tokens():
    """Invalidate every delta token issued so far (their next use gets resyncRequired)."""
    tenant = control_tenant()
    tenant.delta_epoch += 1
    return jsonify(delta_epoch=tenant.delta_epoch)


@bp.get("/stats")
def stats():
    """Request counters, for tests and benchmarks."""
    return jsonify(state().stats)


@bp.post("/stats/reset")
def reset_stats():
    for key in state().stats:
        state().stats[key] = 0
    return jsonify(state().stats)
