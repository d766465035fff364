"""Admin tickets: filter all tickets, see the full timeline with action detail, change status, retry a run."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import jobs, ticket_comments, tickets
from portal.admin import bp
from portal.admin.forms import ActionForm, AdminCommentForm
from portal.admin.views_common import actor, bounded_int
from portal.database import get_or_404
from portal.exceptions import ValidationError
from portal.models import Ticket
from portal.workflows import runner
from portal.workflows.actions import ACTION_TYPES, action_type


@bp.route("/tickets")
def tickets_list():
    """All tickets, newest first; filter by status, category and text."""
    listing = tickets.admin_listing(request.args.get("status"), request.args.get("category", type=bounded_int),
                                    request.args.get("q"), request.args.get("page", 1, type=bounded_int))
    return render_template("admin/tickets.html", **listing, statuses=tickets.STATUSES, args=request.args)


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
def ticket_detail(ticket_id):
    """Full timeline and action runs; POST changes the status."""
    item = get_or_404(Ticket, ticket_id, "There is no such ticket.")
    if request.method == "POST":
        tickets.set_status(item, request.form.get("status", ""), actor())
        flash("Status updated.", "success")
        return redirect(url_for("admin.ticket_detail", ticket_id=item.id))
    return _ticket_page(item, AdminCommentForm())


def _ticket_page(item: Ticket, comment_form: AdminCommentForm):
    """The admin ticket page; 422 when it shows a comment's error."""
    return render_template("admin/ticket.html", ticket=item, **tickets.admin_detail(item, current_user), actions=ACTION_TYPES,
                           statuses=tickets.STATUSES, form=ActionForm(), comment_form=comment_form), \
        (422 if comment_form.errors else 200)


@bp.route("/tickets/<int:ticket_id>/live")
def ticket_live(ticket_id):
    """The polled part of the ticket page: status, timeline and actions (no polling once nothing is running)."""
    item = get_or_404(Ticket, ticket_id, "There is no such ticket.")
    return render_template("admin/_ticket_live.html", ticket=item, **tickets.admin_detail(item, current_user),
                           actions=ACTION_TYPES, form=ActionForm())


@bp.route("/tickets/<int:ticket_id>/comments", methods=["POST"])
def ticket_comment(ticket_id):
    """Write to the requester (they are emailed), or add an internal note only IT sees."""
    item = get_or_404(Ticket, ticket_id, "There is no such ticket.")
    form = AdminCommentForm()
    if form.validate_on_submit():
        try:
            ticket_comments.add(item, current_user, form.body.data, internal=bool(form.internal.data))
        except ValidationError as exc:
            form.body.errors = [exc.message]
        else:
            flash("Internal note added." if form.internal.data else "Comment added; the requester is emailed.", "success")
            return redirect(url_for("admin.ticket_detail", ticket_id=item.id) + "#timeline")
    return _ticket_page(item, form)


@bp.route("/tickets/<int:ticket_id>/runs/<int:run_id>/retry", methods=["POST"])
def retry_run(ticket_id, run_id):
    """Queue a failed action again (a new run; the failed one stays in the history)."""
    fresh = runner.retry(ticket_id, run_id, actor())
    jobs.kick_actions(current_app._get_current_object())
    flash(f"{action_type(fresh.action).label} queued again.", "success")
    return redirect(url_for("admin.ticket_detail", ticket_id=ticket_id))


@bp.route("/tickets/<int:ticket_id>/runs/<int:run_id>/approve", methods=["POST"])
def approve_run(ticket_id, run_id):
    """Approve an action that waits for an admin (re-enabling an account disabled in the directory)."""
    run = runner.approve(ticket_id, run_id, actor())
    jobs.kick_actions(current_app._get_current_object())
    flash(f"{action_type(run.action).label} approved and queued.", "success")
    return redirect(url_for("admin.ticket_detail", ticket_id=ticket_id))
