"""The front page: a welcome for visitors, the home page for requesters, a hop for admins."""
from flask import redirect, render_template, url_for
from flask_login import current_user

from portal import tickets
from portal.requester import bp
from portal.security import requester_required
from portal.workflows import approval_notices


@bp.route("/")
def index():
    """Visitors see how to sign in; signed-in people go to their own home."""
    if current_user.is_authenticated:
        endpoint = "admin.dashboard" if current_user.principal_type == "admin" else "requester.home"
        return redirect(url_for(endpoint))
    return render_template("requester/welcome.html")


@bp.route("/healthz")
def healthz():
    """Liveness for load balancers and the benchmark's floor: no database, no template."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.route("/home")
@requester_required
def home():
    """Open tickets and recent activity."""
    return render_template("requester/home.html", **tickets.requester_home(current_user),
                           approvals=approval_notices.cards_for(current_user))
