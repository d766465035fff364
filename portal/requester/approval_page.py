"""The approval decision page, one view body for both sides: a manager from their home page, an admin from the
Approvals page (the admin route adds the fresh-password check)."""
from flask import current_app, flash, redirect, render_template
from flask_login import current_user

from portal import jobs
from portal.exceptions import ValidationError
from portal.requester.forms import DecisionForm, choice
from portal.workflows import approval_notices, approvals


def decision_page(approval_id: int, back: str):
    """Show the approval to its decider; a POST decides it (CSRF) and returns to `back`."""
    item = approvals.decision_or_404(approval_id, current_user)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            approvals.decide(item.id, current_user, choice(form), form.comment.data)
        except ValidationError as exc:
            form.comment.errors = [exc.message]
        else:
            jobs.kick_actions(current_app._get_current_object())
            flash(f"Ticket #{item.ticket_id}: {item.status}.", "success")
            return redirect(back)
    return render_template("approval.html", item=approval_notices.card(item), form=form,
                           back=back), (422 if form.errors else 200)
