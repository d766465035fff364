"""After a password reset, the requester's open ticket page leads to sign-in with a notice that says what happened."""
import re

from playwright.sync_api import expect

from portal import jobs
from tests.browser.conftest import assert_accessible
from tests.browser.test_ticket_journeys import _new_user_raises

NOTICE = "Your password was reset. Check your email for a temporary password, then sign in."


def test_reset_sends_the_open_ticket_page_to_sign_in_saying_why(portal_server, page, app, synced, catalogue,
                                                                 new_user, mailbox, shots_dir):
    """The reset runs in the background while the ticket page polls: the tab lands on sign-in with the reset
    notice (not "Your access has changed"), and `next` is the ticket page, not the polled fragment."""
    app.config["ACTION_KICK"] = "none"  # queued until the test runs it, as the background runner would
    _new_user_raises(page, portal_server, app, synced, catalogue, new_user, "Reset my password",
                     "force_password_reset", "Please reset my password")
    expect(page.locator("#ticket-working")).to_be_visible()
    ticket_path = re.search(r"/tickets/\d+", page.url).group(0)
    jobs.run_actions(app)
    page.wait_for_url(re.compile(r"/login\?reason=password_reset"), timeout=10_000)
    expect(page.locator("#signin-reason")).to_contain_text(NOTICE)
    assert page.url.endswith("next=" + ticket_path.replace("/", "%2F"))
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "signin-after-reset.png"))
    page.set_viewport_size({"width": 390, "height": 800})
    page.screenshot(path=str(shots_dir / "signin-after-reset-390.png"))
