"""The requester's profile: what Frontdesk knows from Microsoft Entra ID, read-only."""
from flask import render_template
from flask_login import current_user

from portal import requesters
from portal.directory.field_mapping import PORTAL_FIELDS, TABS
from portal.requester import bp
from portal.security import requester_required


@bp.route("/profile")
@requester_required
def profile():
    """Synced fields on the three mapping tabs; they change only through the organisation's directory."""
    return render_template("requester/profile.html", fields=PORTAL_FIELDS, tabs=TABS,
                           manager=requesters.manager_of(current_user))
