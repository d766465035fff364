"""The front page: a welcome for visitors, the home page for requesters, a hop for admins."""
import sqlalchemy as sa
from flask import redirect, render_template, url_for
from flask_login import current_user

from portal import tickets
from portal.database import db
from portal.models import Ticket, TicketEvent
from portal.requester import bp
from portal.security import requester_required


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
    mine = tickets.of_requester(current_user)
    recent = db.session.scalars(sa.select(TicketEvent).join(Ticket).where(
        Ticket.requester_id == current_user.id, TicketEvent.visible_to_requester.is_(True))
        .order_by(TicketEvent.id.desc()).limit(8)).all()
    return render_template("requester/home.html", open_tickets=[t for t in mine if t.status in ("open", "in_progress")],
                           closed=[t for t in mine if t.status not in ("open", "in_progress")][:5], recent=recent)
