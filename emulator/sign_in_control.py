"""Control API for the sign-in log (bearer control token): read, clear, add synthetic events, licence and delay."""
from flask import Blueprint, jsonify, request

from emulator.common import state
from emulator.control import check_control_token, control_invalid, control_not_found, control_tenant
from emulator.sign_in_events import build
from emulator.sign_in_logs import parse_time

bp = Blueprint("sign_in_control", __name__, url_prefix="/_emulator/sign-ins")


# The same token check, tenant lookup and error answers as the rest of the control API.
bp.before_request(check_control_token)
bp.register_error_handler(LookupError, control_not_found)
bp.register_error_handler(ValueError, control_invalid)


def _body() -> dict:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


@bp.get("")
def read():
    """Every recorded event of the tenant, newest first, including those the delay still hides from Graph."""
    events = state().sign_ins.newest_first(control_tenant({}).id, visible_only=False)
    return jsonify(value=[e["signIn"] for e in events])


@bp.delete("")
def clear():
    """Forget the tenant's events (`?all=true`: every tenant's)."""
    tenant_id = None if request.args.get("all") == "true" else control_tenant({}).id
    return jsonify(cleared=state().sign_ins.clear(tenant_id))


@bp.post("")
def add():
    """Synthetic events: {"user": id or UPN (or "userPrincipalName" for an unknown one), "errorCode", "count",
    "appId", "createdDateTime", "ipAddress", "userAgent", "isInteractive", "failureReason"}."""
    body = _body()
    tenant = control_tenant(body)
    user = tenant.find_user(body["user"], include_deleted=True) if body.get("user") else None
    if body.get("user") and user is None:
        raise LookupError(f"user {body['user']!r} not found")
    count = body.get("count", 1)
    if not isinstance(count, int) or not 1 <= count <= 1000:
        raise ValueError("count must be 1-1000")
    error_code = body.get("errorCode", 0)
    if not isinstance(error_code, int):
        raise ValueError("errorCode must be an integer")
    app_id = body.get("appId") or next(iter(tenant.apps), "")
    created = parse_time(body["createdDateTime"]) if body.get("createdDateTime") else None
    added = []
    for _ in range(count):
        when, sign_in = build(tenant, app_id=app_id, error_code=error_code, user=user,
                              typed=body.get("userPrincipalName", ""), description=body.get("failureReason"),
                              interactive=body.get("isInteractive", True), created=created,
                              ip_address=body.get("ipAddress", "127.0.0.1"), user_agent=body.get("userAgent", ""))
        added.append(state().sign_ins.add(tenant.id, when, sign_in)["signIn"])
    return jsonify(value=added), 201


@bp.get("/settings")
def read_settings():
    tenant = control_tenant({})
    return jsonify(delay_seconds=state().sign_ins.delay_seconds, premium=tenant.premium, tenant=tenant.id)


@bp.patch("/settings")
def change_settings():
    """`delay_seconds` (all tenants) before new events show in Graph; `premium` (the tenant's Entra ID P1/P2)."""
    body = _body()
    tenant = control_tenant(body)
    if "delay_seconds" in body:
        delay = body["delay_seconds"]
        if not isinstance(delay, int | float) or delay < 0:
            raise ValueError("delay_seconds must be a number >= 0")
        state().sign_ins.delay_seconds = float(delay)
    if "premium" in body:
        tenant.premium = bool(body["premium"])
    return jsonify(delay_seconds=state().sign_ins.delay_seconds, premium=tenant.premium, tenant=tenant.id)
