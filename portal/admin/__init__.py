"""Admin blueprint: every page is for local admins only (guarded here), one module per page."""
from flask import Blueprint

from portal.security import guard_blueprint

bp = Blueprint("admin", __name__)
guard_blueprint(bp, "admin")

from portal.admin import (  # noqa: E402,F401  (routes register on import)
    approvals,
    audit_log,
    catalogue,
    dashboard,
    group_picker,
    lifecycle,
    login,
    mail_template,
    mapping,
    marketplace,
    requesters,
    roles,
    sessions,
    settings,
    sign_ins,
    step_up,
    sync,
    tickets,
    workflows,
)
