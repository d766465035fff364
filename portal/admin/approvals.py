"""Admin approvals: what waits for this admin, what waits for managers, and deciding (after a fresh sign-in)."""
from flask import render_template, url_for
from flask_login import current_user

from portal.admin import bp
from portal.requester.approval_page import decision_page
from portal.workflows import approval_notices


@bp.route("/approvals")
def approvals_page():
    """Pending approvals (decide those that are yours), the ones managers hold, and recent decisions."""
    return render_template("admin/approvals.html", **approval_notices.admin_overview(current_user))


@bp.route("/approvals/<int:approval_id>", methods=["GET", "POST"])
def decide_approval(approval_id):
    """One approval and its decision; deciding needs a sign-in within the last 10 minutes."""
    return decision_page(approval_id, url_for("admin.approvals_page"))
