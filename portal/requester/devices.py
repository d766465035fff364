"""My devices: every signed-in device of the requester, and signing others out (with a fresh sign-in)."""
from flask import flash, redirect, render_template, session, url_for
from flask_login import current_user

from portal.devices import registry
from portal.devices import sessions as device_sessions
from portal.devices.web import authenticated_at
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
    device = device_sessions.sign_out_own_device(current_user, device_id, session.get("device_id"))
    flash(f"Signed out {device.device_label}.", "success")
    return redirect(url_for("requester.devices"))


@bp.route("/devices/sign-out-others", methods=["POST"])
@requester_required
def sign_out_others():
    """End every device except this one."""
    blocked = _needs_fresh_sign_in()
    if blocked:
        return blocked
    count = device_sessions.sign_out_other_devices(current_user, session.get("device_id"))
    flash(f"Signed out {count} other device{'s' if count != 1 else ''}.", "success")
    return redirect(url_for("requester.devices"))
