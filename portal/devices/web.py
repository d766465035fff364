"""The request side of device sessions: start one at sign-in, check it on every request, end it at sign-out."""
from datetime import UTC, datetime

from flask import flash, g, jsonify, redirect, request, session, url_for
from flask_login import current_user, logout_user

from portal import policy, signals
from portal.database import db
from portal.devices import registry


def session_policy() -> registry.SessionPolicy:
    return registry.SessionPolicy.from_values(policy.all_values())


def flash_ended_devices(ended: list) -> None:
    """Tell the person which device the limit signed out to make room for this one."""
    if ended:
        flash(f"You were signed out on your oldest device ({ended[0].device_label}): at most "
              f"{session_policy().max_devices} devices can be signed in at once.", "info")


def _principal_gone() -> str:
    """The account behind this session can no longer sign in (disabled or removed): end the device too."""
    device = db.session.get(registry.DeviceSession, session.get("device_id") or 0)
    if device is None:
        return "disabled"
    if device.ended_at is not None:
        return registry.ended_reason(device)  # ended first (a password reset, say): tell that story
    registry.end(device, "account_disabled", signals.SYSTEM)
    db.session.commit()
    return "disabled"


def authenticated_at() -> datetime | None:
    stamp = session.get("auth_time")
    return datetime.fromtimestamp(stamp, UTC) if stamp else None


def guard():
    """Refuse a request whose device session was revoked or expired, on every worker, and say why."""
    if request.endpoint in (None, "static") or "device_id" not in session:
        return None
    # Device and person in one query; the person's loader and the check below find both in the identity map.
    g.device = registry.preload(session.get("device_id"))
    if current_user.is_authenticated:
        device, reason = registry.check(session.get("device_id"), session.sid, session_policy())
        if device is not None:
            return None
    else:
        reason = _principal_gone()
    kind = session.get("principal_type", "requester")
    logout_user()
    session.clear()
    if not request.headers.get("HX-Request") and request.accept_mimetypes.best == "application/json":
        return jsonify(error={"code": "session_ended", "message": "Your session has ended. Sign in again."}), 401
    endpoint = "admin.login" if kind == "admin" else "auth.login"
    # htmx gets the redirect as a 401 with HX-Redirect (security._sign_in_as_a_page), so the whole tab goes.
    return redirect(url_for(endpoint, reason=reason, next=request.full_path.rstrip("?") if request.method == "GET" else None))
