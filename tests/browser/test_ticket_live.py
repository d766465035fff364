"""A requester's ticket follows its action live in Chromium, then the requester writes to IT."""
import sqlalchemy as sa
from playwright.sync_api import expect

from portal import jobs
from portal.extensions import db
from portal.models import TicketEvent
from tests.browser.conftest import assert_accessible, microsoft_sign_in
from tests.browser.test_ticket_journeys import _raise, _sync, _workflow


def test_the_ticket_updates_without_a_reload_and_takes_a_comment(portal_server, page, app, synced, catalogue, new_user,
                                                                   mailbox, shots_dir):
    """The requester raises a ticket whose action waits in the queue; when it runs, the open page turns to Resolved by
    itself (the same document, no reload) and stops polling; then a comment lands on the timeline."""
    _workflow(synced, catalogue, "Account locked out", "unlock")
    app.config["ACTION_KICK"] = "none"  # the action stays queued until the test runs it, as a busy runner would
    user = new_user()
    _sync(app, synced)
    microsoft_sign_in(page, portal_server, user["userPrincipalName"], "Start-Password-1")
    page.wait_for_url(portal_server + "/home")
    _raise(page, "Account locked out", "I cannot sign in on my laptop")
    expect(page.locator("#ticket-working")).to_be_visible()
    expect(page.locator("#ticket-status")).to_have_text("Open")
    page.evaluate("window.sameDocument = true")
    page.screenshot(path=str(shots_dir / "ticket-live-queued.png"), full_page=True)
    jobs.run_actions(app)
    expect(page.locator("#ticket-status")).to_have_text("Resolved", timeout=10_000)
    expect(page.locator("#timeline")).to_contain_text("Status changed to resolved.")
    expect(page.locator("#ticket-working")).to_have_count(0)
    expect(page.locator("#ticket-live")).not_to_have_attribute("hx-trigger", "every 2s")
    assert page.evaluate("window.sameDocument === true")  # updated in place, never reloaded
    page.get_by_role("textbox", name="Comment").fill("Thank you, I can sign in again.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator("#timeline li[data-kind=comment]")).to_contain_text("Thank you, I can sign in again.")
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "ticket-live-resolved.png"), full_page=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketEvent).where(TicketEvent.kind == "comment")) == 1
    assert [m["Subject"].split(": ")[-1] for m in mailbox] == ["resolved"]
