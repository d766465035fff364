"""Requesters: searchable list and a detail page."""
import sqlalchemy as sa
from flask import render_template, request

from portal.admin import bp
from portal.errors import NotFound
from portal.extensions import db
from portal.models import Integration, Requester

STATUSES = ("active", "disabled", "deleted")


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
    if status:
        query = query.where(Requester.status == status)
    page = db.paginate(query, page=max(request.args.get("page", 1, type=int), 1), per_page=50, error_out=False)
    return render_template("admin/requesters.html", page=page, q=q, status=status, statuses=STATUSES)


@bp.route("/requesters/<int:requester_id>")
def requester(requester_id):
    """Everything synced about one requester."""
    person = db.session.get(Requester, requester_id)
    if person is None:
        raise NotFound("There is no such requester.")
    manager = db.session.get(Requester, person.manager_id) if person.manager_id else None
    integration = db.session.get(Integration, person.integration_id) if person.integration_id else None
    return render_template("admin/requester.html", person=person, manager=manager, integration=integration)
