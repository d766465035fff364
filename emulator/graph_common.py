"""Graph plumbing the users and delta blueprints share, so neither imports the other: auth, errors, $select, paging."""
import bisect
import json

import jwt
from flask import Blueprint, Response, g, jsonify, request

from emulator.common import apply_faults, graph_error, state
from emulator.directory import DEFAULT_PROPERTIES, USER_PROPERTIES, Tenant, User

DENIED = "Insufficient privileges to complete the operation."


class GraphFailure(Exception):
    """Raised inside handlers; turned into Graph's error shape by the blueprint's handler."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.response = (status, code, message, headers)


def graph_blueprint(name: str, import_name: str) -> Blueprint:
    """A /v1.0 blueprint with Graph's authentication, faults and error shape, the same for every Graph module."""
    bp = Blueprint(name, import_name, url_prefix="/v1.0")
    bp.register_error_handler(GraphFailure, _failure)
    bp.before_request(_authenticate_and_inject_faults)
    return bp


def _failure(exc: GraphFailure):
    return graph_error(*exc.response)


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


def require(roles: set) -> None:
    """403 Authorization_RequestDenied unless the token grants one of `roles` (app roles or delegated scopes)."""
    granted = set(g.claims.get("roles", [])) | set(g.claims.get("scp", "").split())
    if not granted & roles:
        raise GraphFailure(403, "Authorization_RequestDenied", DENIED)


def page_size(default: int = 100) -> int:
    """The request's $top: 1-999 as Graph allows, else Graph's 400."""
    raw = request.args.get("$top")
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 999:
        raise GraphFailure(400, "Request_UnsupportedQuery",
                           f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.")
    return int(raw)


def find_user_or_404(key: str) -> User:
    """A live user by id or UPN, or Graph's 404 Request_ResourceNotFound."""
    user = g.tenant.find_user(key)
    if user is None:
        raise GraphFailure(404, "Request_ResourceNotFound",
                           f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.")
    return user


def select_fields() -> list[str] | None:
    """The request's $select (id always first), None without one; unknown properties are Graph's 400."""
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


def page_users(tenant: Tenant, after: str | None, top: int, accept):
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


def render_user(tenant: Tenant, user: User, fields, expand_manager=False) -> dict:
    """A user in Graph JSON: the selected properties (default set if none), manager if expanded."""
    fields = fields or DEFAULT_PROPERTIES
    out = {name: user.props.get(name) for name in fields if name != "manager"}
    if "businessPhones" in out and out["businessPhones"] is None:
        out["businessPhones"] = []
    if expand_manager and user.manager_id and user.manager_id in tenant.users:
        manager = tenant.users[user.manager_id]
        extra = {name: manager.props.get(name) for name in expand_manager if name != "id"} \
            if isinstance(expand_manager, tuple) else {}
        out["manager"] = {"@odata.type": "#microsoft.graph.user", "id": user.manager_id, **extra}
    return out


def json_response(body) -> Response:
    """Graph's JSON with its OData content type; lone surrogates (raw test users only) escaped, as JSON allows."""
    try:
        response = jsonify(body)
    except UnicodeEncodeError:
        response = Response(json.dumps(body, ensure_ascii=True))
    response.headers["Content-Type"] = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
    return response


def require_eventual(what: str = "$count") -> None:
    """Advanced queries ($count, $search) need ConsistencyLevel: eventual, as Graph answers without it."""
    if request.headers.get("ConsistencyLevel", "").lower() == "eventual":
        return
    if what == "$search":
        raise GraphFailure(400, "Request_UnsupportedQuery", "Request with $search query parameter only works through "
                           "MSGraph with a special request header: 'ConsistencyLevel: eventual'")
    raise GraphFailure(400, "Request_BadRequest", "$count is not currently supported.")
