"""Admin approvals: what waits for this admin, what waits for managers, and deciding (after a fresh sign-in)."""
from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from portal import jobs
from portal.admin import bp
from portal.exceptions import ValidationError
from portal.requester.forms import DecisionForm, choice
from portal.workflows import approval_notices, approvals


@bp.route("/approvals")
def approvals_page():
    """Pending approvals (decide those that are yours), the ones managers hold, and recent decisions."""
    return render_template("admin/approvals.html", **approval_notices.admin_overview(current_user))


@bp.route("/approvals/<int:approval_id>", methods=["GET", "POST"])
def decide_approval(approval_id):
    """One approval and its decision; deciding needs a sign-in within the last 10 minutes."""
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
            return redirect(url_for("admin.approvals_page"))
    return render_template("approval.html", item=approval_notices.card(item), form=form,
                           back=url_for("admin.approvals_page")), (422 if form.errors else 200)
