"""The requester's profile: what Frontdesk knows from Microsoft Entra ID, read-only."""
from flask import render_template
from flask_login import current_user

from portal.database import db
from portal.directory.mapping import PORTAL_FIELDS, TABS
from portal.models import Requester
from portal.requester import bp
from portal.security import requester_required


@bp.route("/profile")
@requester_required
def profile():
    """Synced fields on the three mapping tabs; they change only through the organisation's directory."""
    manager = db.session.get(Requester, current_user.manager_id) if current_user.manager_id else None
    return render_template("requester/profile.html", fields=PORTAL_FIELDS, tabs=TABS, manager=manager)
