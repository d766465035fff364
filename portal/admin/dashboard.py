"""The admin dashboard: what needs attention first."""
from datetime import timedelta

import sqlalchemy as sa
from flask import render_template

from portal import integrations, policy
from portal.admin import bp
from portal.extensions import db
from portal.models import AuditEvent, Requester


@bp.route("/")
def dashboard():
    """Integration health, requester counts and recent audit events."""
    counts = dict(db.session.execute(sa.select(Requester.status, sa.func.count()).group_by(Requester.status)).all())
    health = [(i, integrations.expiry_state(i), [row["label"] for row in integrations.checklist(i) if not row["ok"]])
              for i in integrations.all_integrations()]
    recent = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(10)).all()
    return render_template("admin/dashboard.html", counts=counts, integrations=health, recent=recent,
                           interval=timedelta(minutes=policy.get("sync_interval_minutes")))
