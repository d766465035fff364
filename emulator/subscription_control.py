"""Control API for change notifications (bearer control token): lifecycle events, expiry, deliveries, settings."""
import os
import time

from flask import Blueprint, jsonify, request

from emulator.common import state
from emulator.control import check_control_token, control_invalid, control_not_found
from emulator.subscription_store import LIFECYCLE_EVENTS

bp = Blueprint("subscription_control", __name__, url_prefix="/_emulator")
bp.before_request(check_control_token)
bp.register_error_handler(LookupError, control_not_found)
bp.register_error_handler(ValueError, control_invalid)
SETTING_LIMITS = {"batch_window_ms": (0, 10_000), "max_batch": (1, 1000), "retry_base_seconds": (0.01, 3600),
                  "max_attempts": (1, 100), "validation_timeout_seconds": (0.1, 10)}


def _sub(sub_id: str):
    sub = state().subscriptions.get(sub_id)
    if sub is None:
        raise LookupError(f"subscription {sub_id!r} not found")
    return sub


@bp.get("/subscriptions")
def list_all():
    """Every live subscription of every app and tenant."""
    return jsonify(value=[s.render() | {"tenantId": s.tenant_id, "needsReauthorization": s.needs_reauthorization}
                          for s in state().subscriptions.all()])


@bp.delete("/subscriptions")
def delete_all():
    """Forget every subscription (tests start clean); nothing is sent."""
    subs = state().subscriptions.all()
    for sub in subs:
        state().subscriptions.remove(sub.id)
    return jsonify(deleted=len(subs))


@bp.post("/subscriptions/<sub_id>/lifecycle")
def lifecycle(sub_id):
    """Send a lifecycle event: reauthorizationRequired holds deliveries until renewed or reauthorized;
    subscriptionRemoved deletes the subscription; missed only tells the app that notifications were lost."""
    sub = _sub(sub_id)
    event = (request.get_json(force=True, silent=True) or {}).get("event")
    if event not in LIFECYCLE_EVENTS:
        raise ValueError(f"event must be one of {', '.join(LIFECYCLE_EVENTS)}")
    if not sub.lifecycle_url:
        raise ValueError("this subscription has no lifecycleNotificationUrl, so Graph sends it no lifecycle events")
    if event == "reauthorizationRequired":
        sub.needs_reauthorization = True
    elif event == "subscriptionRemoved":
        state().subscriptions.remove(sub.id)
    state().notifier.lifecycle(sub, event)
    return jsonify(subscriptionId=sub.id, lifecycleEvent=event)


@bp.post("/subscriptions/<sub_id>/expire")
def expire(sub_id):
    """Let a subscription run out now: it is deleted and delivers nothing more, as in Graph."""
    _sub(sub_id).expires_at = time.time()
    return jsonify(ok=True)


@bp.get("/notifications")
def deliveries():
    """Every notification POST attempt (newest last): url, value, status, attempt, at; ?since=epoch seconds."""
    since = float(request.args.get("since", 0))
    return jsonify(value=[d for d in list(state().notifier.deliveries) if d["at"] >= since])


@bp.delete("/notifications")
def clear_deliveries():
    state().notifier.deliveries.clear()
    return jsonify(ok=True)


@bp.route("/notifications/settings", methods=["GET", "PATCH"])
def settings():
    """Batch window, batch size, retry backoff (base seconds, doubling; attempts), validation timeout, and ca_file."""
    notifier = state().notifier
    for key, value in (request.get_json(force=True, silent=True) or {}).items() if request.method == "PATCH" else ():
        if key == "ca_file":  # an extra CA to trust for https notification URLs (a test portal's own CA)
            if value is not None and not os.path.isfile(str(value)):
                raise ValueError("ca_file must be the path of a PEM file, or null")
            notifier.settings[key] = value
            continue
        low, high = SETTING_LIMITS.get(key, (None, None))
        if low is None or not isinstance(value, int | float) or not low <= value <= high:
            raise ValueError(f"{key} must be one of {', '.join(SETTING_LIMITS)} within its limits")
        notifier.settings[key] = type(notifier.settings[key])(value)
    return jsonify(notifier.settings)
