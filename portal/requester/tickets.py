"""Requester tickets: raise one, see one with its timeline (only their own)."""
from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from portal import jobs, ticket_comments, tickets
from portal.exceptions import ValidationError
from portal.requester import bp
from portal.requester.approval_page import decision_page
from portal.requester.forms import CommentForm, TicketForm
from portal.security import requester_required
from portal.workflows import targeting


@bp.route("/tickets/new", methods=["GET", "POST"])
@requester_required
def new_ticket():
    """Choose a service, describe the problem; workflows start as soon as it is saved."""
    form = TicketForm()
    choices = tickets.categories()
    form.category.choices = [(c.id, c.name) for c in choices]
    if form.validate_on_submit():
        try:
            ticket = tickets.create(current_user, form.category.data, form.subject.data, form.description.data or "",
                                    form.about.data or None)
        except ValidationError as exc:
            for name, message in (exc.detail or {}).get("errors", {}).items():
                getattr(form, name).errors = [message]
        else:
            jobs.kick_actions(current_app._get_current_object())
            flash(f"Ticket #{ticket.id} raised. You can follow it here.", "success")
            return redirect(url_for("requester.ticket", ticket_id=ticket.id))
    return render_template("requester/new_ticket.html", form=form, categories=choices,
                           icons=tickets.service_icons(choices), rules=targeting.TARGET_RULES), (422 if form.errors else 200)


@bp.route("/tickets/<int:ticket_id>")
@requester_required
def ticket(ticket_id):
    """The ticket and the friendly side of its timeline."""
    return render_template("requester/ticket.html", **tickets.requester_ticket_page(current_user, ticket_id),
                           comment_form=CommentForm())


@bp.route("/tickets/<int:ticket_id>/live")
@requester_required
def ticket_progress_fragment(ticket_id):
    """The polled part of the ticket page (status and timeline); only for a ticket the requester may see."""
    return render_template("_ticket_live.html", **tickets.requester_ticket_page(current_user, ticket_id),
                           live_url=url_for("requester.ticket_progress_fragment", ticket_id=ticket_id), admin_view=False)


@bp.route("/tickets/<int:ticket_id>/comments", methods=["POST"])
@requester_required
def comment(ticket_id):
    """Write to IT on one of my tickets; someone else's ticket is 'not found'."""
    page = tickets.requester_ticket_page(current_user, ticket_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            ticket_comments.add(page["ticket"], current_user, form.body.data)
        except ValidationError as exc:
            form.body.errors = [exc.message]
        else:
            flash("Comment added. IT will read it.", "success")
            return redirect(url_for("requester.ticket", ticket_id=ticket_id) + "#timeline")
    return render_template("requester/ticket.html", **page, comment_form=form), 422


@bp.route("/approvals/<int:approval_id>", methods=["GET", "POST"])
@requester_required
def approval(approval_id):
    """An approval waiting for me (a manager): what would happen, and the decision as a CSRF-protected POST."""
    return decision_page(approval_id, url_for("requester.home"))
