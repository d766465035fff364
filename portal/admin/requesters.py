"""Requesters: searchable list and a detail page."""
from dataclasses import asdict

from flask import flash, redirect, render_template, request, url_for

from portal import lockout, requesters
from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor, bounded_int


@bp.route("/requesters", endpoint="requesters")
def requesters_list():
    """Search by name, email or UPN; filter by status and integration; 50 per page."""
    q = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status") if request.args.get("status") in requesters.STATUSES else None
    page = requesters.find_requesters(q, status, request.args.get("page", 1, type=bounded_int))
    return render_template("admin/requesters.html", page=page, q=q, status=status, statuses=requesters.STATUSES)


@bp.route("/requesters/<int:requester_id>")
def requester(requester_id):
    """Everything synced about one requester."""
    return render_template("admin/requester.html", form=ActionForm(), **asdict(requesters.admin_page(requester_id)))


@bp.route("/requesters/<int:requester_id>/unlock", methods=["POST"], endpoint="unlock_requester")
def unlock_requester_page(requester_id):
    """Lift the portal lock after failed sign-ins."""
    person = requesters.requester_or_404(requester_id)
    was_locked = lockout.lift_requester_lock(person, actor=actor(), reason="unlocked by an admin")
    flash(f"{person.label} is unlocked." if was_locked else f"{person.label} was not locked; counters reset.", "success")
    return redirect(url_for("admin.requester", requester_id=person.id))
