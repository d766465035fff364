"""Admin tickets: filter all tickets, see the full timeline with action detail, change status, retry a run."""
import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for

from portal import jobs, tickets
from portal.admin import bp
from portal.admin.forms import ActionForm
from portal.admin.views_common import actor, bounded_int
from portal.database import db
from portal.exceptions import NotFound
from portal.models import ActionRun, AuditEvent, Requester, ServiceCategory, Ticket
from portal.workflows import runner
from portal.workflows.engine import ACTIONS


@bp.route("/tickets")
def tickets_list():
    """All tickets, newest first; filter by status, category and text."""
    query = sa.select(Ticket).order_by(Ticket.id.desc())
    status, category = request.args.get("status"), request.args.get("category", type=bounded_int)
    q = (request.args.get("q") or "").strip()[:100]
    if status in tickets.STATUSES:
        query = query.where(Ticket.status == status)
    if category:
        query = query.where(Ticket.category_id == category)
    if q:
        query = query.where(sa.func.lower(Ticket.subject).contains(q.lower(), autoescape=True))
    page = db.paginate(query, page=max(request.args.get("page", 1, type=bounded_int), 1), per_page=50, error_out=False)
    people = {r.id: r for r in db.session.scalars(sa.select(Requester).where(
        Requester.id.in_({t.requester_id for t in page.items})))}
    return render_template("admin/tickets.html", page=page, people=people, statuses=tickets.STATUSES,
                           categories=tickets.categories(active_only=False), args=request.args)


def _ticket(ticket_id) -> Ticket:
    item = db.session.get(Ticket, ticket_id)
    if item is None:
        raise NotFound("There is no such ticket.")
    return item


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
def ticket_detail(ticket_id):
    """Full timeline and action runs; POST changes the status."""
    item = _ticket(ticket_id)
    if request.method == "POST":
        tickets.set_status(item, request.form.get("status", ""), actor())
        flash("Status updated.", "success")
        return redirect(url_for("admin.ticket_detail", ticket_id=item.id))
    runs = db.session.scalars(sa.select(ActionRun).where(ActionRun.ticket_id == item.id).order_by(ActionRun.id)).all()
    events = db.session.scalars(sa.select(AuditEvent).where(
        sa.or_(sa.and_(AuditEvent.target_type == "ticket", AuditEvent.target_id == str(item.id)),
               sa.and_(AuditEvent.target_type == "action_run", AuditEvent.target_id.in_([str(r.id) for r in runs]))))
        .order_by(AuditEvent.id)).all()
    return render_template("admin/ticket.html", ticket=item, runs=runs, actions=ACTIONS, audit_events=events,
                           requester=db.session.get(Requester, item.requester_id),
                           about=db.session.get(Requester, item.subject_requester_id) if item.subject_requester_id else None,
                           category=db.session.get(ServiceCategory, item.category_id), statuses=tickets.STATUSES,
                           form=ActionForm())


@bp.route("/tickets/<int:ticket_id>/runs/<int:run_id>/retry", methods=["POST"])
def retry_run(ticket_id, run_id):
    """Queue a failed action again (a new run; the failed one stays in the history)."""
    run = db.session.get(ActionRun, run_id)
    if run is None or run.ticket_id != ticket_id or run.status != "failed":
        raise NotFound("Only a failed action of this ticket can be retried.")
    runner.retry(run, actor())
    jobs.kick_actions(current_app._get_current_object())
    flash(f"{ACTIONS[run.action]['label']} queued again.", "success")
    return redirect(url_for("admin.ticket_detail", ticket_id=ticket_id))
