"""graph.microsoft.com v1.0: users, delta, single user, PATCH, revokeSignInSessions, /me."""
import bisect
import json
import re
import socket
import time
from urllib.parse import urlencode

import jwt
from flask import Blueprint, Response, g, jsonify, request

from emulator.app import graph_error, identity_error, state
from emulator.directory import DEFAULT_PROPERTIES, READ_ROLES, USER_PROPERTIES, WRITABLE_PROPERTIES, Tenant, User

bp = Blueprint("graph", __name__, url_prefix="/v1.0")
PRIVILEGED_ROLE = "Privileged Authentication Administrator"
ENABLE_ROLES = {"User.EnableDisableAccount.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
PASSWORD_ROLES = {"User-PasswordProfile.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
WRITE_ROLES = {"User.ReadWrite.All", "Directory.ReadWrite.All"}
REVOKE_ROLES = {"User.RevokeSessions.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}
DENIED = "Insufficient privileges to complete the operation."
FILTER_CLAUSE = re.compile(r"^\s*(id|userPrincipalName|accountEnabled|mail|userType)\s+eq\s+('(?:[^']|'')*'|true|false)\s*$",
                           re.IGNORECASE)


class GraphFailure(Exception):
    """Raised inside handlers; turned into Graph's error shape by the blueprint's handler."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.response = (status, code, message, headers)


@bp.errorhandler(GraphFailure)
def _failure(exc: GraphFailure):
    return graph_error(*exc.response)


@bp.before_request
def _authenticate_and_inject_faults():
    """Bearer token first (401 otherwise), then any switched-on throttling or fault."""
    s = state()
    s.count("graph_requests")
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
    try:
        claims = s.tokens.decode(header[7:])
    except jwt.ExpiredSignatureError:
        return graph_error(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
    except jwt.PyJWTError:
        return graph_error(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
    tenant = s.directory.find_tenant(claims.get("tid", ""))
    if tenant is None:
        return graph_error(401, "InvalidAuthenticationToken", "Access token validation failure.")
    g.claims, g.tenant = claims, tenant
    if s.faults.applies_to("graph"):
        return apply_faults(claims.get("appid", "anonymous"))
    return None


def apply_faults(client_key: str, identity: bool = False):
    """Throttle, fail, or drop the connection as the fault settings say (identity-shaped on the token endpoint)."""
    s = state()
    verdict, detail = s.faults.decide(client_key)
    if verdict == "ok":
        return None
    s.count("faults" if verdict != "throttle" else "throttled")
    if identity and verdict in ("throttle", "error"):
        status = 429 if verdict == "throttle" else detail
        response = identity_error(status, "temporarily_unavailable", 90055 if status == 429 else 90033,
                                  "Too many requests. Retry later." if status == 429 else "The service is unavailable.")
        response.headers["Retry-After"] = str(detail if verdict == "throttle" else 1)
        return response
    if verdict == "throttle":
        return graph_error(429, "TooManyRequests", "Too many requests.", {"Retry-After": str(detail)})
    if verdict == "drop":
        sock = request.environ.get("werkzeug.socket")
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        return Response(status=500)
    codes = {503: "serviceNotAvailable", 504: "UnknownError", 500: "generalException"}
    return graph_error(detail, codes.get(detail, "UnknownError"), "The service is temporarily unavailable.",
                       {"Retry-After": "1"} if detail == 503 else None)


def _require(roles: set):
    granted = set(g.claims.get("roles", [])) | set(g.claims.get("scp", "").split())
    if not granted & roles:
        raise GraphFailure(403, "Authorization_RequestDenied", DENIED)


# -- query options -----------------------------------------------------------------------------

def _select() -> list[str] | None:
    raw = request.args.get("$select")
    if not raw:
        return None
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    for name in fields:
        if name not in USER_PROPERTIES and name != "manager":
            raise GraphFailure(400, "Request_BadRequest",
                               f"Could not find a property named '{name}' on type 'microsoft.graph.user'.")
    if "id" not in fields:
        fields.insert(0, "id")
    return fields


def _top(default=100) -> int:
    raw = request.args.get("$top")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 999:
        raise GraphFailure(400, "Request_UnsupportedQuery",
                           f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.")
    return int(raw)


def _filter():
    """Support `prop eq value` clauses joined by `and` on id, UPN, mail, userType and accountEnabled."""
    raw = request.args.get("$filter")
    if not raw:
        return None
    clauses = []
    for part in re.split(r"\s+and\s+", raw, flags=re.IGNORECASE):
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


def _expand_manager() -> bool:
    raw = request.args.get("$expand")
    if not raw:
        return False
    if not raw.replace(" ", "").startswith("manager"):
        raise GraphFailure(400, "Request_BadRequest", f"Expand of '{raw}' is not supported on users.")
    return True


def render_user(tenant: Tenant, user: User, fields, expand_manager=False) -> dict:
    """A user in Graph JSON: the selected properties (default set if none), manager if expanded."""
    fields = fields or DEFAULT_PROPERTIES
    out = {name: user.props.get(name) for name in fields if name != "manager"}
    if "businessPhones" in out and out["businessPhones"] is None:
        out["businessPhones"] = []
    if expand_manager and user.manager_id and user.manager_id in tenant.users:
        out["manager"] = {"@odata.type": "#microsoft.graph.user", "id": user.manager_id}
    return out


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
    _require(READ_ROLES)
    tenant, fields, top, accept = g.tenant, _select(), _top(), _filter()
    expand = _expand_manager()
    body = {"@odata.context": _context_url(fields)}
    if request.args.get("$count", "").lower() == "true":
        _require_eventual()
        with tenant.lock:
            body["@odata.count"] = sum(1 for u in tenant.users.values() if not u.soft_deleted and (not accept or accept(u)))
    after = None
    if request.args.get("$skiptoken"):
        token = state().unseal(request.args["$skiptoken"])
        if not token or "after" not in token:
            raise GraphFailure(400, "Request_BadRequest", "The specified page token value has expired or is invalid.")
        after = token["after"]
    page, last = _page(tenant, after, top, accept)
    if last is not None:
        body["@odata.nextLink"] = _link("users", **{"$skiptoken": state().seal({"after": last})})
    body["value"] = [render_user(tenant, u, fields, expand) for u in page]
    if last is None:
        body["value"].extend(state().raw_users)
    return _json(body)


def _page(tenant: Tenant, after: str | None, top: int, accept):
    """Users after `after` in id order; returns the page and the id to continue from (or None)."""
    found = []
    with tenant.lock:
        ids = tenant.sorted_ids
        index = bisect.bisect_right(ids, after) if after else 0
        while index < len(ids) and len(found) <= top:
            user = tenant.users[ids[index]]
            index += 1
            if not user.soft_deleted and (accept is None or accept(user)):
                found.append(user)
    if len(found) > top:
        return found[:top], found[top - 1].id
    return found, None


def _require_eventual():
    if request.headers.get("ConsistencyLevel", "").lower() != "eventual":
        raise GraphFailure(400, "Request_BadRequest", "$count is not currently supported.")


@bp.get("/users/$count")
def count_users():
    """Plain-text count; needs ConsistencyLevel: eventual, like Graph's advanced queries."""
    _require(READ_ROLES)
    _require_eventual()
    accept = _filter()
    with g.tenant.lock:
        total = sum(1 for u in g.tenant.users.values() if not u.soft_deleted and (not accept or accept(u)))
    return Response(str(total), mimetype="text/plain")


def _json(body) -> Response:
    try:
        response = jsonify(body)
    except UnicodeEncodeError:  # lone surrogates (only from raw test users): escaped, as JSON allows
        response = Response(json.dumps(body, ensure_ascii=True))
    response.headers["Content-Type"] = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
    return response


@bp.get("/users/<key>")
def get_user(key):
    """One user by id or UPN."""
    _require(READ_ROLES)
    user = _find(key)
    body = {"@odata.context": _context_url(_select()) + "/$entity"}
    body.update(render_user(g.tenant, user, _select(), _expand_manager()))
    return _json(body)


@bp.get("/me")
def me():
    """The signed-in user of a delegated token."""
    if g.claims.get("idtyp") != "user":
        raise GraphFailure(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
    user = _find(g.claims["oid"])
    return _json(dict({"@odata.context": _context_url(None) + "/$entity"}, **render_user(g.tenant, user, _select())))


def _find(key: str) -> User:
    user = g.tenant.find_user(key)
    if user is None:
        raise GraphFailure(404, "Request_ResourceNotFound",
                           f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.")
    return user


# -- writes ------------------------------------------------------------------------------------

def password_complexity_ok(password: str) -> bool:
    """Entra's rule: 8-256 characters and three of four character classes."""
    classes = [any(c.islower() for c in password), any(c.isupper() for c in password),
               any(c.isdigit() for c in password), any(not c.isalnum() for c in password)]
    return 8 <= len(password) <= 256 and sum(classes) >= 3


@bp.patch("/users/<key>")
def patch_user(key):
    """Update properties; accountEnabled and passwordProfile need their own permissions; 204 on success."""
    user = _find(key)
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
        _require(roles)
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
    _require(REVOKE_ROLES)
    user = _find(key)
    user.sessions_revoked_at = time.time()
    return _json({"@odata.context": f"{state().https_base}/v1.0/$metadata#Edm.Boolean", "value": True})


from emulator import delta  # noqa: E402,F401  (registers /users/delta on this blueprint)
