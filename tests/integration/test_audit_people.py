"""The audit log names the requester a row is about, linked, found for the whole page in one query."""
import sqlalchemy as sa

from portal import audit, audit_people, signals, tickets
from portal.database import db
from portal.models import AuditEvent, Requester
from portal.workflows import admin_service


def _unlock_ticket(app, synced, catalogue):
    """A ticket whose unlock run waits in the queue; the audit log gets its `action.requested` row."""
    app.config["ACTION_KICK"] = "none"
    admin_service.save(None, "Unlock", [catalogue["Account locked out"].id], True,
                       [{"integration_id": synced.id, "action": "unlock", "target": "requester"}], actor=signals.SYSTEM)
    person = db.session.scalar(sa.select(Requester).where(Requester.integration_id == synced.id)
                                            .order_by(Requester.id.desc()))
    tickets.create(person, catalogue["Account locked out"].id, "Locked", "")
    return person


def test_rows_about_a_requester_name_the_person(app, synced, catalogue, admin, login_as, client):
    """'unlock for requester N' reads 'unlock for <name>', linked to the requester page, in the log and on the
    dashboard; the stored row keeps its label (the hash chain covers it)."""
    person = _unlock_ticket(app, synced, catalogue)
    db.session.commit()
    login_as("admin")
    link = f'<a href="/admin/requesters/{person.id}" title="unlock for requester {person.id}">{person.label}</a>'
    for page in ("/admin/audit", "/admin/"):  # the log, and the dashboard's recent events
        assert f"unlock for {link}" in client.get(page).get_data(as_text=True), page
    assert db.session.scalar(sa.select(AuditEvent.target_label).where(AuditEvent.target_type == "action_run")) == \
        f"unlock for requester {person.id}"


def test_names_come_in_one_query(app, synced, catalogue, requester):
    """Requester targets and action-run targets of one page resolve in a single SELECT."""
    person = _unlock_ticket(app, synced, catalogue)
    signals.requester_unlocked.send("test", actor=signals.SYSTEM, target=signals.Target(
        "requester", str(requester.id), "old label"), reason="test")
    db.session.commit()
    events, _ = audit.page(audit.Filters())
    statements = []

    def count(conn, cursor, statement, *_):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        found = audit_people.target_people(events)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    named = {(who.doing, who.requester.id) for who in found.values()}
    assert ("unlock", person.id) in named and (None, requester.id) in named
