"""The admin dashboard: what needs attention first."""
import sqlalchemy as sa
from flask import render_template

from portal.admin import bp
from portal.extensions import db
from portal.models import AuditEvent, Integration, Requester


@bp.route("/")
def dashboard():
    """Integrations, requester counts and recent audit events."""
    counts = dict(db.session.execute(sa.select(Requester.status, sa.func.count()).group_by(Requester.status)).all())
    integrations = db.session.scalars(sa.select(Integration).order_by(Integration.name)).all()
    recent = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(10)).all()
    return render_template("admin/dashboard.html", counts=counts, integrations=integrations, recent=recent)
