"""Admin Sessions: every live session, filterable and paginated; revoke one, a person's, or all."""
from flask import flash, redirect, render_template, request, session, url_for

from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor, bounded_int, plural
from portal.devices import sessions as device_sessions
from portal.security import safe_next_url


def _session_filters() -> device_sessions.SessionFilters:
    args = request.args
    return device_sessions.SessionFilters(
        person=(args.get("person") or "").strip()[:100], device_type=args.get("device_type"),
        ip=(args.get("ip") or "").strip()[:45] or None, older_than_hours=args.get("older_than_hours", type=bounded_int))


@bp.route("/sessions")
def sessions():
    """Live sessions across requesters and admins."""
    page = device_sessions.find_live_sessions(_session_filters(), request.args.get("page", 1, type=bounded_int))
    return render_template("admin/sessions.html", page=page, form=ActionForm(), device_types=device_sessions.DEVICE_TYPES,
                           args=request.args)


@bp.route("/sessions/<int:device_id>/revoke", methods=["POST"])
def revoke_session(device_id):
    """End one session now."""
    device = device_sessions.end_one_session(device_id, actor())
    flash(f"Session on {device.device_label} ended.", "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("admin.sessions")))


@bp.route("/requesters/<int:requester_id>/sessions/revoke", methods=["POST"])
def revoke_person(requester_id):
    """End every session of one requester."""
    person, count = device_sessions.end_sessions_of_requester(requester_id, actor())
    flash(f"Ended {plural(count, 'session')} of {person.label}.", "success")
    return redirect(url_for("admin.requester", requester_id=person.id))


@bp.route("/sessions/revoke-all", methods=["POST"])
def revoke_all():
    """End every live session except the admin's own."""
    count = device_sessions.end_every_other_session(actor(), keep=session.get("device_id"))
    flash(f"Ended {plural(count, 'session')}. Your own session stays.", "success")
    return redirect(url_for("admin.sessions"))
