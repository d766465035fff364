"""My devices: every signed-in device of the requester, and signing others out (with a fresh sign-in)."""
from flask import flash, redirect, render_template, session, url_for
from flask_login import current_user

from portal import signals
from portal.database import db
from portal.devices import registry
from portal.devices.web import authenticated_at
from portal.exceptions import NotFound
from portal.requester import bp
from portal.security import requester_required


@bp.route("/devices")
@requester_required
def devices():
    """Active sessions, the current one marked."""
    return render_template("requester/devices.html", devices=registry.active("requester", current_user.id),
                           current_id=session.get("device_id"), fresh=registry.is_fresh(authenticated_at()))


def _needs_fresh_sign_in():
    if registry.is_fresh(authenticated_at()):
        return None
    flash("For your security, sign in again (within the last 10 minutes) before signing out other devices.", "warning")
    return redirect(url_for("requester.devices"))


@bp.route("/devices/<int:device_id>/sign-out", methods=["POST"])
@requester_required
def sign_out_device(device_id):
    """End one of my other devices."""
    blocked = _needs_fresh_sign_in()
    if blocked:
        return blocked
    device = db.session.get(registry.DeviceSession, device_id)
    if device is None or device.requester_id != current_user.id or device.id == session.get("device_id"):
        raise NotFound("There is no such device among yours.")
    registry.end(device, "revoked_by_user", signals.Principal.of(current_user))
    db.session.commit()
    flash(f"Signed out {device.device_label}.", "success")
    return redirect(url_for("requester.devices"))


@bp.route("/devices/sign-out-others", methods=["POST"])
@requester_required
def sign_out_others():
    """End every device except this one."""
    blocked = _needs_fresh_sign_in()
    if blocked:
        return blocked
    count = registry.end_all("requester", current_user.id, "revoked_by_user", signals.Principal.of(current_user),
                             keep=session.get("device_id"))
    db.session.commit()
    flash(f"Signed out {count} other device{'s' if count != 1 else ''}.", "success")
    return redirect(url_for("requester.devices"))
