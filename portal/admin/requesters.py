"""Requesters: searchable list and a detail page."""
from dataclasses import asdict

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import jobs, lockout, requesters
from portal.admin import bp
from portal.admin.forms import AccountActionForm, ActionForm
from portal.admin.views_common import actor, bounded_int
from portal.workflows import admin_actions
from portal.workflows.actions import ACTION_TYPES


@bp.route("/requesters", endpoint="requesters")
def requesters_list():
    """Search by name, email or UPN; filter by status and integration; 50 per page."""
    q = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status") if request.args.get("status") in requesters.STATUSES else None
    page = requesters.find_requesters(q, status, request.args.get("page", 1, type=bounded_int))
    return render_template("admin/requesters.html", page=page, q=q, status=status, statuses=requesters.STATUSES)


@bp.route("/requesters/<int:requester_id>")
def requester(requester_id):
    """Everything synced about one requester, and the account actions an admin may run."""
    return render_template("admin/requester.html", form=ActionForm(), action_form=_action_form(),
                           **asdict(requesters.admin_page(requester_id)))


def _action_form() -> AccountActionForm:
    form = AccountActionForm()
    form.action.choices = [(key, action.label) for key, action in ACTION_TYPES.items()]
    return form


@bp.route("/requesters/<int:requester_id>/actions", methods=["POST"], endpoint="requester_action")
def requester_action(requester_id):
    """Run an account action now (reason required, fresh sign-in required); its ticket shows the result."""
    person = requesters.requester_or_404(requester_id)
    form = _action_form()
    if not form.validate_on_submit():
        flash("Choose an action and give a reason of 5 to 500 characters.", "warning")
        return redirect(url_for("admin.requester", requester_id=person.id))
    ticket = admin_actions.act_on_account(current_user, person, form.action.data, form.reason.data)
    jobs.kick_actions(current_app._get_current_object())
    flash(f"{ACTION_TYPES[form.action.data].label} queued for {person.label}. This ticket shows the result.", "success")
    return redirect(url_for("admin.ticket_detail", ticket_id=ticket.id))


@bp.route("/requesters/<int:requester_id>/unlock", methods=["POST"], endpoint="unlock_requester")
def unlock_requester_page(requester_id):
    """Lift the portal lock after failed sign-ins."""
    person = requesters.requester_or_404(requester_id)
    was_locked = lockout.lift_requester_lock(person, actor=actor(), reason="unlocked by an admin")
    flash(f"{person.label} is unlocked." if was_locked else f"{person.label} was not locked; counters reset.", "success")
    return redirect(url_for("admin.requester", requester_id=person.id))
