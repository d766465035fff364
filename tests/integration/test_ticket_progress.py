"""Tickets follow their actions: status from the runs, IT and the requester emailed, comments both ways, live pages."""
import pytest
import sqlalchemy as sa

from portal import policy, signals
from portal.entra import credentials
from portal.models import ActionRun, AuditEvent, Setting, Ticket, TicketEvent
from tests.conftest import ADMIN_PASSWORD, admin_sign_in, csrf_from
from tests.integration.test_workflows import person, raise_ticket, workflow  # noqa: F401 (fixture)

IT_DESK = "it-desk@example.com"


def _status_changes(db, ticket_id) -> list[tuple[str, str]]:
    rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "ticket.status_changed",
                                                          AuditEvent.target_id == str(ticket_id)).order_by(AuditEvent.id))
    return [(e.actor_type, e.detail["new"]) for e in rows]


def _text(message) -> str:
    return next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()


def _admin(app, admin):
    admin_client = app.test_client()
    assert admin_sign_in(admin_client, admin.email, ADMIN_PASSWORD).status_code == 302
    return admin_client


def test_a_failed_action_needs_attention_and_it_is_told(app, db, synced, catalogue, person, emulator, mailbox,  # noqa: F811
                                                        login_as, client, admin):
    """A permanent failure moves the ticket to 'needs attention' (timeline, audit by the system), mails the IT address
    with the error and the admin link, tells the requester, and shows on the admin list and dashboard."""
    policy.set_values({"it_notify_email": IT_DESK}, actor=signals.SYSTEM)
    workflow(synced, catalogue, "Leaver: disable account", "disable")
    emulator.hard_delete(person["id"])
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "Leaver: disable account")
    db.session.expire_all()
    assert db.session.get(Ticket, ticket_id).status == "needs_attention"
    assert _status_changes(db, ticket_id) == [("system", "needs_attention")]
    to_it = [m for m in mailbox if m["To"] == IT_DESK]
    assert [m["Subject"] for m in to_it] == [f"Ticket #{ticket_id} needs attention: Disable (Lock) User Account failed"]
    body = _text(to_it[0])
    assert "no longer exists" in body and f"{app.config['PORTAL_URL']}admin/tickets/{ticket_id}" in body
    to_requester = [m for m in mailbox if m["To"] == person["mail"]]
    assert [m["Subject"] for m in to_requester] == [f"Ticket #{ticket_id} is now: needs attention"]
    assert f"{app.config['PORTAL_URL']}tickets/{ticket_id}" in _text(to_requester[0])
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert 'data-status="needs_attention"' in page and "Needs attention" in page
    admin_client = _admin(app, admin)
    listing = admin_client.get("/admin/tickets?status=needs_attention").get_data(as_text=True)
    assert f"/admin/tickets/{ticket_id}\"" in listing and ">Needs attention</span>" in listing
    assert f"/admin/tickets/{ticket_id}\"" not in admin_client.get("/admin/tickets?status=resolved").get_data(as_text=True)
    dashboard = admin_client.get("/admin/").get_data(as_text=True)
    assert 'id="tickets-need-attention"' in dashboard and "1 ticket needs attention" in dashboard


def test_a_retry_reopens_the_ticket_and_success_resolves_it(app, db, synced, catalogue, person, emulator, mailbox,  # noqa: F811
                                                            client, admin):
    """Needs attention, then the admin retries (in progress) and the retry succeeds (resolved): each change on the
    timeline and audited, the outcomes mailed to the requester; the superseded failure no longer counts."""
    from portal import tickets

    workflow(synced, catalogue, "Leaver: disable account", "disable")
    client_id = emulator.app()["client_id"]
    emulator.update_app(client_id, revoke=["User.EnableDisableAccount.All"])
    credentials.forget_all_clients()
    try:
        ticket = tickets.create(person["requester"], catalogue["Leaver: disable account"].id, "Leaving", "")
        from portal import jobs

        jobs.run_actions(app)
    finally:
        emulator.update_app(client_id, grant=["User.EnableDisableAccount.All"])
        credentials.forget_all_clients()
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "needs_attention"
    admin_client = _admin(app, admin)
    page = admin_client.get(f"/admin/tickets/{ticket.id}").get_data(as_text=True)
    failed = db.session.scalar(sa.select(ActionRun.id).where(ActionRun.ticket_id == ticket.id))
    done = admin_client.post(f"/admin/tickets/{ticket.id}/runs/{failed}/retry", data={"csrf_token": csrf_from(page)})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "resolved"
    assert _status_changes(db, ticket.id) == [("system", "needs_attention"), ("admin", "in_progress"),
                                              ("system", "resolved")]
    lines = db.session.scalars(sa.select(TicketEvent.public_message).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "status").order_by(TicketEvent.id)).all()
    assert lines == ["Status changed to needs attention.", "Status changed to in progress.", "Status changed to resolved."]
    # the return to "in progress" is not mailed: the outcome follows within moments
    assert [m["Subject"] for m in mailbox] == [f"Ticket #{ticket.id} is now: {s}" for s in ("needs attention", "resolved")]
    emulator.update_user(person["id"], accountEnabled=True)


def test_a_mail_failure_never_breaks_the_runner(app, db, synced, catalogue, person, emulator, login_as, client,  # noqa: F811
                                                admin):
    """With the SMTP server down the run still finishes and the ticket needs attention; the failed notices are on the
    timeline for admins only."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_ATTEMPTS=1)
    policy.set_values({"it_notify_email": IT_DESK}, actor=signals.SYSTEM)
    workflow(synced, catalogue, "Leaver: disable account", "disable")
    emulator.hard_delete(person["id"])
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "Leaver: disable account")
    db.session.expire_all()
    assert db.session.scalar(sa.select(ActionRun.status)) == "failed"
    assert db.session.get(Ticket, ticket_id).status == "needs_attention"
    notes = db.session.scalars(sa.select(TicketEvent).where(TicketEvent.kind == "mail_failed")).all()
    assert sorted(n.public_message.split(":")[0] for n in notes) == ["The email to IT could not be sent",
                                                                     "The email to the requester could not be sent"]
    assert not any(n.visible_to_requester for n in notes)
    assert "could not be sent" not in client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "The email to IT could not be sent" in _admin(app, admin).get(f"/admin/tickets/{ticket_id}").get_data(as_text=True)


def test_the_it_address_is_checked_on_the_settings_page(app, db, client, login_as):
    """Settings take one valid address or nothing; a list of two is refused with a clear message, never stored."""
    login_as("admin")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="it_notify_email"' in page
    form = dict(app.config["POLICY_DEFAULTS"], csrf_token=csrf_from(page))
    refused = client.post("/admin/settings", data=dict(form, it_notify_email="a@example.com, b@example.com"))
    assert refused.status_code == 200 and "Enter one valid email address, or leave it empty." in refused.get_data(as_text=True)
    assert db.session.get(Setting, "it_notify_email") is None
    saved = client.post("/admin/settings", data=dict(form, it_notify_email=f"  {IT_DESK} "))
    assert saved.status_code == 302
    assert policy.get("it_notify_email") == IT_DESK


def test_comments_both_ways(app, db, synced, catalogue, person, mailbox, login_as, client, admin):  # noqa: F811
    """The requester writes to IT; IT replies (the requester is emailed, without the text) and adds an internal note
    the requester never sees; each comment is audited without its text."""
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "General request")
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    sent = client.post(f"/tickets/{ticket_id}/comments", data={"csrf_token": csrf_from(page),
                                                               "body": "The printer <b>still</b> jams."})
    assert sent.status_code == 302
    assert mailbox == []  # IT reads it on the ticket; the requester is not mailed about their own words
    admin_client = _admin(app, admin)
    admin_page = admin_client.get(f"/admin/tickets/{ticket_id}").get_data(as_text=True)
    assert "The printer &lt;b&gt;still&lt;/b&gt; jams." in admin_page
    token = csrf_from(admin_page)
    assert admin_client.post(f"/admin/tickets/{ticket_id}/comments",
                             data={"csrf_token": token, "body": "We are sending a new drum today."}).status_code == 302
    assert admin_client.post(f"/admin/tickets/{ticket_id}/comments", data={
        "csrf_token": token, "body": "Drum on back order; check stock.", "internal": "y"}).status_code == 302
    assert [m["Subject"] for m in mailbox] == [f"IT replied on ticket #{ticket_id}"]
    assert "new drum" not in mailbox[0].as_string() and f"/tickets/{ticket_id}" in _text(mailbox[0])
    mine = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "We are sending a new drum today." in mine and "back order" not in mine
    assert "back order" not in client.get(f"/tickets/{ticket_id}/live").get_data(as_text=True)
    assert "back order" in admin_client.get(f"/admin/tickets/{ticket_id}").get_data(as_text=True)
    audited = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "ticket.commented")
                                 .order_by(AuditEvent.id)).all()
    assert [(e.actor_type, e.detail["internal"]) for e in audited] == [("requester", False), ("admin", False),
                                                                      ("admin", True)]
    assert not any("drum" in str(e.detail) or "printer" in str(e.detail) for e in audited)


@pytest.mark.parametrize("body, error", [("", "Write a comment."), ("   ", "Write a comment."),
                                         ("x" * 5001, "Field cannot be longer than 5000 characters.")])
def test_a_bad_comment_is_refused_with_a_clear_message(app, db, synced, catalogue, person, login_as, client,  # noqa: F811
                                                       body, error):
    """Empty, blank or over-long comments show the page again with the error (422), and nothing is stored."""
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "General request")
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    refused = client.post(f"/tickets/{ticket_id}/comments", data={"csrf_token": csrf_from(page), "body": body})
    assert refused.status_code == 422 and error in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketEvent).where(TicketEvent.kind == "comment")) == 0


def test_the_ticket_page_polls_while_a_run_is_queued_and_stops_after(app, db, synced, catalogue, person, emulator,  # noqa: F811
                                                                    login_as, client, admin):
    """Requester and admin pages poll their fragment every 2 s while the action is queued; once it finished the
    fragment comes back resolved and without a trigger, so polling stops."""
    from portal import jobs

    workflow(synced, catalogue, "Account locked out", "unlock")
    app.config["ACTION_KICK"] = "none"
    login_as(person["requester"])
    ticket_id = raise_ticket(client, catalogue, "Account locked out")
    admin_client = _admin(app, admin)
    pages = ((client, f"/tickets/{ticket_id}", f"/tickets/{ticket_id}/live"),
             (admin_client, f"/admin/tickets/{ticket_id}", f"/admin/tickets/{ticket_id}/live"))
    for who, page, fragment in pages:
        html = who.get(page).get_data(as_text=True)
        assert f'hx-get="{fragment}" hx-trigger="every 2s"' in html
        live = who.get(fragment)
        assert live.status_code == 200 and 'hx-trigger="every 2s"' in live.get_data(as_text=True)
        assert "<html" not in live.get_data(as_text=True)
    jobs.run_actions(app)
    for who, _, fragment in pages:
        done = who.get(fragment).get_data(as_text=True)
        assert "hx-trigger" not in done and 'data-status="resolved"' in done and 'data-live="no"' in done


def test_a_polled_fragment_whose_session_ended_sends_the_tab_to_sign_in(app, db, requester, catalogue, login_as,
                                                                        client):
    """When the session is gone, the poll gets a 401 with HX-Redirect to sign-in rather than the sign-in page
    swapped into the fragment; an ordinary request still gets the plain redirect."""
    from portal import tickets

    ticket = tickets.create(requester, catalogue["General request"].id, "Printer", "")
    login_as(requester)
    assert client.get(f"/tickets/{ticket.id}/live", headers={"HX-Request": "true"}).status_code == 200
    with client.session_transaction() as sess:
        sess.clear()
    polled = client.get(f"/tickets/{ticket.id}/live", headers={
        "HX-Request": "true", "HX-Current-URL": f"http://localhost/tickets/{ticket.id}"})
    assert polled.status_code == 401 and polled.headers["HX-Redirect"] == f"/login?next=%2Ftickets%2F{ticket.id}"
    assert polled.headers["Content-Security-Policy"]
    elsewhere = client.get(f"/tickets/{ticket.id}/live", headers={
        "HX-Request": "true", "HX-Current-URL": "https://evil.example/phish"})
    assert elsewhere.headers["HX-Redirect"] == "/login"  # never a next from another host, nor the bare fragment
    plain = client.get(f"/tickets/{ticket.id}/live")
    assert plain.status_code == 302 and plain.headers["Location"].startswith("/login?next=")


def test_a_poll_after_a_password_reset_sends_the_tab_to_sign_in_saying_why(app, db, requester, catalogue, login_as,
                                                                           client):
    """The reset ends the session while the ticket page polls: the tab goes to sign-in with the reset notice, and
    back to the ticket page after signing in again."""
    from portal import tickets
    from portal.devices import registry

    ticket = tickets.create(requester, catalogue["General request"].id, "Reset", "")
    login_as(requester)
    registry.end_for_requesters([requester.id], "password_reset")
    polled = client.get(f"/tickets/{ticket.id}/live", headers={
        "HX-Request": "true", "HX-Current-URL": f"http://localhost/tickets/{ticket.id}"})
    assert polled.status_code == 401
    assert polled.headers["HX-Redirect"] == f"/login?reason=password_reset&next=%2Ftickets%2F{ticket.id}"
    notice = client.get(polled.headers["HX-Redirect"]).get_data(as_text=True)
    assert "Your password was reset. Check your email for a temporary password, then sign in." in notice
