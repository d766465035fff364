"""graph.microsoft.com v1.0: users, single user, PATCH, revokeSignInSessions, /me (delta lives in delta.py)."""
import re
import time
from urllib.parse import urlencode

from flask import Response, g, request

from emulator.common import state
from emulator.directory import READ_ROLES, WRITABLE_PROPERTIES, User, password_complexity_ok
from emulator.graph_common import (
    DENIED,
    GraphFailure,
    find_user_or_404,
    graph_blueprint,
    json_response,
    page_size,
    page_users,
    render_user,
    require,
    require_eventual,
    select_fields,
)

bp = graph_blueprint("graph", __name__)
PRIVILEGED_ROLE = "Privileged Authentication Administrator"
ENABLE_ROLES = {"User.EnableDisableAccount.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
PASSWORD_ROLES = {"User-PasswordProfile.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
WRITE_ROLES = {"User.ReadWrite.All", "Directory.ReadWrite.All"}
REVOKE_ROLES = {"User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
FILTER_CLAUSE = re.compile(r"^\s*(id|userPrincipalName|accountEnabled|mail|userType)\s+eq\s+('(?:[^']|'')*'|true|false)\s*$",
                           re.IGNORECASE)
ID_IN = re.compile(r"^\s*id\s+in\s+\(\s*('[^']*'(?:\s*,\s*'[^']*')*)\s*\)\s*$", re.IGNORECASE)


# -- query options -----------------------------------------------------------------------------

def _filter():
    """Support `prop eq value` clauses joined by `and` on id, UPN, mail, userType and accountEnabled, and
    `id in ('a', 'b')`."""
    raw = request.args.get("$filter")
    if not raw:
        return None
    clauses = []
    for part in re.split(r"\s+and\s+", raw, flags=re.IGNORECASE):
        if listed := ID_IN.match(part):
            clauses.append(("id in", {v[1:-1] for v in re.findall(r"'[^']*'", listed.group(1))}))
            continue
        match = FILTER_CLAUSE.match(part)
        if not match:
            raise GraphFailure(400, "Request_UnsupportedQuery", f"Unsupported or invalid query filter clause "
                               f"specified for property of resource 'User': {part.strip()}")
        name, value = match.groups()
        lowered = value.lower()
        parsed = lowered == "true" if lowered in ("true", "false") else value[1:-1].replace("''", "'")
        clauses.append((name, parsed))

    def accept(user: User) -> bool:
        for name, value in clauses:
            if name == "id in":
                if user.props.get("id") not in value:
                    return False
                continue
            key = {"id": "id", "userprincipalname": "userPrincipalName", "accountenabled": "accountEnabled",
                   "mail": "mail", "usertype": "userType"}[name.lower()]
            actual = user.props.get(key)
            if isinstance(value, str) and isinstance(actual, str) and key != "id":
                if actual.lower() != value.lower():
                    return False
            elif actual != value:
                return False
        return True
    return accept


def _expand_manager() -> tuple[str, ...] | None:
    """The manager properties $expand=manager($select=...) asks for (Graph's default: id and the rest)."""
    raw = (request.args.get("$expand") or "").replace(" ", "")
    if not raw:
        return None
    if not raw.startswith("manager"):
        raise GraphFailure(400, "Request_BadRequest", f"Expand of '{raw}' is not supported on users.")
    chosen = re.search(r"\$select=([^)]*)", raw)
    return tuple(chosen.group(1).split(",")) if chosen else ("id", "displayName", "mail", "userPrincipalName")


def _context_url(fields) -> str:
    base = state().https_base
    return f"{base}/v1.0/$metadata#users({','.join(fields)})" if fields else f"{base}/v1.0/$metadata#users"


def _link(path: str, **params) -> str:
    query = {k: v for k, v in request.args.items() if not k.startswith("$skiptoken") and k != "$deltatoken"}
    query.update(params)
    return f"{state().https_base}/v1.0/{path}?{urlencode(query)}"


# -- /users ------------------------------------------------------------------------------------

@bp.get("/users")
def list_users():
    """Keyset-paged users with $select, $top, $filter, $count and $expand=manager."""
    require(READ_ROLES)
    tenant, fields, top, accept = g.tenant, select_fields(), page_size(), _filter()
    expand = _expand_manager()
    body = {"@odata.context": _context_url(fields)}
    if request.args.get("$count", "").lower() == "true":
        require_eventual()
        with tenant.lock:
            body["@odata.count"] = sum(1 for u in tenant.users.values() if not u.soft_deleted and (not accept or accept(u)))
    after = None
    if request.args.get("$skiptoken"):
        token = state().unseal(request.args["$skiptoken"])
        if not token or "after" not in token:
            raise GraphFailure(400, "Request_BadRequest", "The specified page token value has expired or is invalid.")
        after = token["after"]
    page, last = page_users(tenant, after, top, accept)
    if last is not None:
        body["@odata.nextLink"] = _link("users", **{"$skiptoken": state().seal({"after": last})})
    body["value"] = [render_user(tenant, u, fields, expand) for u in page]
    if last is None:
        body["value"].extend(state().raw_users)
    return json_response(body)


@bp.get("/users/$count")
def count_users():
    """Plain-text count; needs ConsistencyLevel: eventual, like Graph's advanced queries."""
    require(READ_ROLES)
    require_eventual()
    accept = _filter()
    with g.tenant.lock:
        total = sum(1 for u in g.tenant.users.values() if not u.soft_deleted and (not accept or accept(u)))
    return Response(str(total), mimetype="text/plain")


@bp.get("/users/<key>")
def get_user(key):
    """One user by id or UPN."""
    require(READ_ROLES)
    user = find_user_or_404(key)
    body = {"@odata.context": _context_url(select_fields()) + "/$entity"}
    body.update(render_user(g.tenant, user, select_fields(), _expand_manager()))
    return json_response(body)


@bp.get("/me")
def me():
    """The signed-in user of a delegated token."""
    if g.claims.get("idtyp") != "user":
        raise GraphFailure(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
    user = find_user_or_404(g.claims["oid"])
    return json_response(dict({"@odata.context": _context_url(None) + "/$entity"}, **render_user(g.tenant, user, select_fields())))


# -- writes ------------------------------------------------------------------------------------

@bp.patch("/users/<key>")
def patch_user(key):
    """Update properties; accountEnabled and passwordProfile need their own permissions; 204 on success."""
    user = find_user_or_404(key)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        raise GraphFailure(400, "Request_BadRequest", "Invalid request body: a JSON object with properties is required.")
    _authorize_patch(user, body)
    changes = {k: v for k, v in body.items() if k != "passwordProfile"}
    unknown = [k for k in changes if k not in WRITABLE_PROPERTIES]
    if unknown:
        raise GraphFailure(400, "Request_BadRequest", f"Property '{unknown[0]}' is read-only or does not exist on 'microsoft.graph.user'.")
    if "accountEnabled" in changes and not isinstance(changes["accountEnabled"], bool):
        raise GraphFailure(400, "Request_BadRequest", "Invalid value for property 'accountEnabled': a boolean is required.")
    profile = body.get("passwordProfile")
    if profile is not None:
        _check_profile(profile)
    with g.tenant.lock:
        if profile is not None and "password" in profile:
            user.set_password(profile["password"], bool(profile.get("forceChangePasswordNextSignIn", False)))
        elif profile is not None:
            user.force_change_password = bool(profile.get("forceChangePasswordNextSignIn", user.force_change_password))
        g.tenant.update_user(user, changes)
    return Response(status=204)


def _authorize_patch(user: User, body: dict) -> None:
    needs = []
    if "accountEnabled" in body:
        needs.append(ENABLE_ROLES)
    if "passwordProfile" in body:
        needs.append(PASSWORD_ROLES)
    if set(body) - {"accountEnabled", "passwordProfile"}:
        needs.append(WRITE_ROLES)
    for roles in needs:
        require(roles)
    sensitive = {"accountEnabled", "passwordProfile"} & set(body)
    _, app = state().directory.find_app(g.claims.get("appid", ""))
    app_roles = app.directory_roles if app else set()
    if sensitive and user.directory_roles and PRIVILEGED_ROLE not in app_roles:
        raise GraphFailure(403, "Authorization_RequestDenied", DENIED)


def _check_profile(profile) -> None:
    if not isinstance(profile, dict):
        raise GraphFailure(400, "Request_BadRequest", "Invalid value for property 'passwordProfile'.")
    password = profile.get("password")
    if password is not None and (not isinstance(password, str) or not password_complexity_ok(password)):
        raise GraphFailure(400, "Request_BadRequest", "The specified password does not comply with password "
                           "complexity requirements. Please provide a different password.")


@bp.post("/users/<key>/revokeSignInSessions")
def revoke_sessions(key):
    """Invalidate refresh tokens and the browser session cookies issued before now."""
    require(REVOKE_ROLES)
    user = find_user_or_404(key)
    user.sessions_revoked_at = time.time()
    return json_response({"@odata.context": f"{state().https_base}/v1.0/$metadata#Edm.Boolean", "value": True})

