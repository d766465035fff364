"""The public "Can't sign in? Ask IT" form: a ticket number for anyone, nothing revealed, nothing run without an
admin, and rate limits per address and per email."""
import re

import pytest
import sqlalchemy as sa

from portal import jobs, signals
from portal.directory.runs import start_run
from portal.models import ActionRun, Approval, Requester, Ticket
from portal.workflows import admin_service
from tests.conftest import csrf_from


def ask(client, email, message="I typed my password wrong too often"):
    token = csrf_from(client.get("/help").get_data(as_text=True))
    return client.post("/help", data={"csrf_token": token, "email": email, "message": message})


def number(response):
    return int(re.search(r'id="ticket-number">(\d+)<', response.get_data(as_text=True)).group(1))


@pytest.fixture
def locked_person(app, db, synced, new_user, catalogue):
    """A synced person, and an Unlock workflow on 'Account locked out'."""
    admin_service.save(None, "Unlock", [catalogue["Account locked out"].id], True,
                       [{"integration_id": synced.id, "action": "unlock", "target": "requester"}], actor=signals.SYSTEM)
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    return db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))


def test_known_and_unknown_emails_get_the_same_answer(app, db, client, locked_person):
    """Same status and the same words (only the number differs); the known one is tied to its requester, the other
    to nobody; both are unverified."""
    known = ask(client, locked_person.email.upper())
    unknown = ask(app.test_client(), "nobody.here@contoso.onmicrosoft.com")
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r"#<span id=\"ticket-number\">\d+</span>|Request <code>[0-9a-f]+</code>|[0-9a-f]{16}",  # noqa: E731
                             "", r.get_data(as_text=True))
    assert strip(known) == strip(unknown)
    first, second = db.session.get(Ticket, number(known)), db.session.get(Ticket, number(unknown))
    assert first.unverified and second.unverified
    assert first.requester_id == locked_person.id and second.requester_id is None
    assert second.contact_email == "nobody.here@contoso.onmicrosoft.com"


def test_no_action_runs_without_an_admin(app, db, client, locked_person, emulator, admin):
    """The matched person's Unlock waits for an admin's approval (any admin), flagged on the admin's pages."""
    ticket_id = number(ask(client, locked_person.email))
    jobs.run_actions(app)
    jobs.run_actions(app)  # planned once, by the action job, not in the request
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActionRun)) == 1
    run = db.session.scalar(sa.select(ActionRun).where(ActionRun.ticket_id == ticket_id))
    gate = db.session.scalar(sa.select(Approval).where(Approval.ticket_id == ticket_id))
    assert run.status == "blocked" and gate.rule == "unverified_request" and gate.any_admin
    assert gate.approver_requester_id is None  # not even the person's manager: IT checks who asked
    from tests.conftest import ADMIN_PASSWORD, admin_sign_in

    browser = app.test_client()
    assert admin_sign_in(browser, admin.email, ADMIN_PASSWORD).status_code == 302
    listing = browser.get("/admin/tickets").get_data(as_text=True)
    assert "unverified" in listing
    detail = browser.get(f"/admin/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="unverified-ticket"' in detail and locked_person.email in detail
    page = browser.get(f"/admin/approvals/{gate.id}")
    assert "asked from the public form as" in page.get_data(as_text=True)


@pytest.mark.parametrize("email,message,expected", [
    ("", "help", "Enter your work email."),
    ("not-an-email", "help", "Invalid email address."),
    ("a@contoso.onmicrosoft.com", "", "Say what happens."),
    ("a@contoso.onmicrosoft.com", "x" * 2001, "Field cannot be longer than 2000 characters."),
])
def test_bad_input_gets_a_clear_message(app, db, client, email, message, expected):
    """Each mistake is named on the form (422), and no ticket is written."""
    response = ask(client, email, message)
    assert response.status_code == 422 and expected in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


@pytest.mark.settings(RATELIMIT_ASK_IT_IP="4 per hour", RATELIMIT_ASK_IT_EMAIL="2 per day")
def test_rate_limited_per_email_and_per_address(app, db, client):
    """The third request naming one email is refused (429); every request counts for the address, so its fifth is
    refused too."""
    statuses = [ask(client, "same@contoso.onmicrosoft.com").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert ask(client, "other@contoso.onmicrosoft.com").status_code == 200
    assert ask(client, "third@contoso.onmicrosoft.com").status_code == 429
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 3
