"""Requesters: searchable list and a detail page."""
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from portal import accounts
from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor, bounded_int
from portal.database import db
from portal.devices import registry
from portal.exceptions import NotFound
from portal.models import AuditEvent, Integration, Requester

STATUSES = ("active", "disabled", "deleted", "locked")


@bp.route("/requesters")
def requesters():
    """Search by name, email or UPN; filter by status and integration; 50 per page."""
    q = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    query = sa.select(Requester).order_by(Requester.display_name, Requester.id)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(sa.or_(sa.func.lower(Requester.display_name).like(like), sa.func.lower(Requester.email).like(like),
                                   sa.func.lower(Requester.user_principal_name).like(like)))
    if status == "locked":
        query = query.where(Requester.locked_until > datetime.now(UTC))
    elif status:
        query = query.where(Requester.status == status)
    page = db.paginate(query, page=max(request.args.get("page", 1, type=bounded_int), 1), per_page=50, error_out=False)
    return render_template("admin/requesters.html", page=page, q=q, status=status, statuses=STATUSES)


@bp.route("/requesters/<int:requester_id>")
def requester(requester_id):
    """Everything synced about one requester."""
    person = _get(requester_id)
    manager = db.session.get(Requester, person.manager_id) if person.manager_id else None
    integration = db.session.get(Integration, person.integration_id) if person.integration_id else None
    locked = person.locked_until is not None and person.locked_until > datetime.now(UTC)
    concerning = sa.or_(sa.and_(AuditEvent.target_type == "requester", AuditEvent.target_id == str(person.id)),
                        sa.and_(AuditEvent.actor_type == "requester", AuditEvent.actor_id == str(person.id)))
    sign_ins = db.session.scalars(sa.select(AuditEvent).where(concerning, AuditEvent.action.in_(
        ("requester.sign_in", "requester.sign_in_failed", "requester.locked_out"))).order_by(AuditEvent.id.desc()).limit(10)).all()
    events = db.session.scalars(sa.select(AuditEvent).where(concerning).order_by(AuditEvent.id.desc()).limit(15)).all()
    return render_template("admin/requester.html", person=person, manager=manager, integration=integration,
                           locked=locked, form=ActionForm(), devices=registry.active("requester", person.id),
                           sign_ins=sign_ins, events=events)


def _get(requester_id) -> Requester:
    person = db.session.get(Requester, requester_id)
    if person is None:
        raise NotFound("There is no such requester.")
    return person


@bp.route("/requesters/<int:requester_id>/unlock", methods=["POST"])
def unlock_requester(requester_id):
    """Lift the portal lock after failed sign-ins."""
    person = _get(requester_id)
    was_locked = accounts.unlock_requester(person, actor=actor())
    flash(f"{person.label} is unlocked." if was_locked else f"{person.label} was not locked; counters reset.", "success")
    return redirect(url_for("admin.requester", requester_id=person.id))
