"""The admin dashboard: what needs attention first, and how sign-ins, syncs and sessions are going."""
from flask import render_template
from flask_login import current_user

from portal import dashboard as figures
from portal import sign_in_pages
from portal.admin import bp
from portal.workflows import approvals
from portal.workflows.actions import ACTION_TYPES


@bp.route("/")
def dashboard():
    """Integration health, requester counts, charts (with table fallbacks) and recent audit events."""
    return render_template("admin/dashboard.html", actions=ACTION_TYPES, **figures.overview(),
                           my_approvals=len(approvals.waiting_for(current_user)),
                           microsoft_failures=sign_in_pages.failures_by_reason())
