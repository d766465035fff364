"""Control API for the sign-in log (bearer control token): read, clear, add synthetic events, licence and delay."""
import hmac

from flask import Blueprint, jsonify, request

from emulator.common import state
from emulator.sign_in_events import build
from emulator.sign_in_logs import parse_time

bp = Blueprint("sign_in_control", __name__, url_prefix="/_emulator/sign-ins")


@bp.before_request
def _check_token():
    header = request.headers.get("Authorization", "")
    if not hmac.compare_digest(header, f"Bearer {state().control_token}"):
        return jsonify(error="unauthorized", message="The control API needs the control token from the info file."), 401
    return None


def _body() -> dict:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


def _tenant(body: dict):
    key = request.args.get("tenant") or body.get("tenant")
    directory = state().directory
    tenant = directory.find_tenant(key) if key else next(iter(directory.tenants.values()))
    if tenant is None:
        raise LookupError(f"tenant {key!r} not found")
    return tenant


@bp.errorhandler(LookupError)
def _missing(exc):
    return jsonify(error="not_found", message=str(exc)), 404


@bp.errorhandler(ValueError)
def _invalid(exc):
    return jsonify(error="invalid", message=str(exc)), 400


@bp.get("")
def read():
    """Every recorded event of the tenant, newest first, including those the delay still hides from Graph."""
    events = state().sign_ins.newest_first(_tenant({}).id, visible_only=False)
    return jsonify(value=[e["signIn"] for e in events])


@bp.delete("")
def clear():
    """Forget the tenant's events (`?all=true`: every tenant's)."""
    tenant_id = None if request.args.get("all") == "true" else _tenant({}).id
    return jsonify(cleared=state().sign_ins.clear(tenant_id))


@bp.post("")
def add():
    """Synthetic events: {"user": id or UPN (or "userPrincipalName" for an unknown one), "errorCode", "count",
    "appId", "createdDateTime", "ipAddress", "userAgent", "isInteractive", "failureReason"}."""
    body = _body()
    tenant = _tenant(body)
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
    tenant = _tenant({})
    return jsonify(delay_seconds=state().sign_ins.delay_seconds, premium=tenant.premium, tenant=tenant.id)


@bp.patch("/settings")
def change_settings():
    """`delay_seconds` (all tenants) before new events show in Graph; `premium` (the tenant's Entra ID P1/P2)."""
    body = _body()
    tenant = _tenant(body)
    if "delay_seconds" in body:
        delay = body["delay_seconds"]
        if not isinstance(delay, int | float) or delay < 0:
            raise ValueError("delay_seconds must be a number >= 0")
        state().sign_ins.delay_seconds = float(delay)
    if "premium" in body:
        tenant.premium = bool(body["premium"])
    return jsonify(delay_seconds=state().sign_ins.delay_seconds, premium=tenant.premium, tenant=tenant.id)
