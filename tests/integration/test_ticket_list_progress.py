"""The admin ticket list shows what each ticket's actions are doing, not only its status word."""
import sqlalchemy as sa

from portal import signals, ticket_progress, tickets
from portal.database import db
from portal.models import ActionRun, Requester
from portal.workflows import admin_service


def queued_tickets(app, synced, catalogue, count: int) -> list:
    """Tickets whose unlock runs wait in the queue (the runner is not kicked)."""
    app.config["ACTION_KICK"] = "none"
    admin_service.save(None, "Unlock", [catalogue["Account locked out"].id], True,
                       [{"integration_id": synced.id, "action": "unlock", "target": "requester"}], actor=signals.SYSTEM)
    person = db.session.scalar(sa.select(Requester).where(Requester.integration_id == synced.id).order_by(Requester.id))
    return [tickets.create(person, catalogue["Account locked out"].id, f"Locked {n}", "") for n in range(count)]


def set_run_status(ticket, status: str) -> None:
    db.session.execute(sa.update(ActionRun).where(ActionRun.ticket_id == ticket.id).values(status=status))
    db.session.commit()


def test_the_list_shows_failed_waiting_and_working_tickets(app, synced, catalogue, login_as, client):
    """An "Open" ticket whose run failed says so in red; one waiting for approval or queued says that."""
    failed, waiting, working, done = queued_tickets(app, synced, catalogue, 4)
    set_run_status(failed, "failed")
    set_run_status(waiting, "awaiting_approval")
    set_run_status(done, "succeeded")
    login_as("admin")
    html = client.get("/admin/tickets").get_data(as_text=True)
    rows = {t.id: html[html.index(f">Locked {n}<"):].split("</tr>")[0] for n, t in enumerate([failed, waiting, working, done])}
    assert 'data-progress="failed"' in rows[failed.id] and "Action failed" in rows[failed.id]
    assert 'data-progress="waiting"' in rows[waiting.id] and "Waiting for approval" in rows[waiting.id]
    assert 'data-progress="working"' in rows[working.id]
    assert "data-progress" not in rows[done.id]


def test_a_retried_failure_is_history(app, synced, catalogue):
    """A failed run superseded by a retry no longer marks the ticket as failed."""
    (ticket,) = queued_tickets(app, synced, catalogue, 1)
    set_run_status(ticket, "failed")
    old = db.session.scalar(sa.select(ActionRun).where(ActionRun.ticket_id == ticket.id))
    db.session.add(ActionRun(ticket_id=ticket.id, integration_id=old.integration_id, action=old.action,
                             target_requester_id=old.target_requester_id, status="pending", detail={"retry_of": old.id}))
    db.session.commit()
    assert ticket_progress.progress_of([ticket.id]) == {ticket.id: "working"}
    assert ticket_progress.progress_of([]) == {}
