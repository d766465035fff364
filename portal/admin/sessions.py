"""Admin Sessions: every live session, filterable and paginated; revoke one, a person's, or all."""
from datetime import timedelta

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, session, url_for

from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor, bounded_int
from portal.database import db
from portal.devices import registry
from portal.exceptions import NotFound
from portal.models import Admin, DeviceSession, Requester
from portal.security import safe_next_url

DEVICE_TYPES = ("desktop", "mobile", "tablet", "bot", "other")


def _filtered():
    args = request.args
    query = (sa.select(DeviceSession).outerjoin(Requester, DeviceSession.requester_id == Requester.id)
             .outerjoin(Admin, DeviceSession.admin_id == Admin.id).where(DeviceSession.ended_at.is_(None))
             .options(sa.orm.contains_eager(DeviceSession.requester), sa.orm.contains_eager(DeviceSession.admin))
             .order_by(DeviceSession.last_seen_at.desc(), DeviceSession.id.desc()))
    person = (args.get("person") or "").strip().lower()[:100]
    if person:
        like = f"%{person}%"
        query = query.where(sa.or_(sa.func.lower(Requester.display_name).like(like), sa.func.lower(Requester.email).like(like),
                                   sa.func.lower(Admin.email).like(like)))
    if args.get("device_type") in DEVICE_TYPES:
        query = query.where(DeviceSession.device_type == args["device_type"])
    if args.get("ip"):
        query = query.where(DeviceSession.ip_address == args["ip"].strip()[:45])
    older = args.get("older_than_hours", type=bounded_int)
    if older and older <= 24 * 3650:
        query = query.where(DeviceSession.created_at <= registry.now() - timedelta(hours=older))
    return query


@bp.route("/sessions")
def sessions():
    """Live sessions across requesters and admins."""
    page = db.paginate(_filtered(), page=max(request.args.get("page", 1, type=bounded_int), 1), per_page=50, error_out=False)
    return render_template("admin/sessions.html", page=page, form=ActionForm(), device_types=DEVICE_TYPES,
                           args=request.args)


@bp.route("/sessions/<int:device_id>/revoke", methods=["POST"])
def revoke_session(device_id):
    """End one session now."""
    device = db.session.get(DeviceSession, device_id)
    if device is None:
        raise NotFound("There is no such session.")
    registry.end(device, "revoked_by_admin", actor())
    db.session.commit()
    flash(f"Session on {device.device_label} ended.", "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("admin.sessions")))


@bp.route("/requesters/<int:requester_id>/sessions/revoke", methods=["POST"])
def revoke_person(requester_id):
    """End every session of one requester."""
    person = db.session.get(Requester, requester_id)
    if person is None:
        raise NotFound("There is no such requester.")
    count = registry.end_all("requester", person.id, "revoked_by_admin", actor())
    db.session.commit()
    flash(f"Ended {count} session{'s' if count != 1 else ''} of {person.label}.", "success")
    return redirect(url_for("admin.requester", requester_id=person.id))


@bp.route("/sessions/revoke-all", methods=["POST"])
def revoke_all():
    """End every live session except the admin's own."""
    count = 0
    for device in db.session.scalars(sa.select(DeviceSession).where(DeviceSession.ended_at.is_(None))):
        if device.id != session.get("device_id") and registry.end(device, "revoked_by_admin", actor()):
            count += 1
    db.session.commit()
    flash(f"Ended {count} session{'s' if count != 1 else ''}. Your own session stays.", "success")
    return redirect(url_for("admin.sessions"))
