"""Journey: a leaver is signed out within seconds of being disabled in Entra (change notifications, no waiting for
the scheduled sync)."""
import threading
import time

from playwright.sync_api import expect

from portal import jobs
from portal.directory.runs import start_run
from tests.browser.conftest import assert_accessible, microsoft_sign_in


def test_a_disabled_requester_is_out_within_seconds(portal_server, page, app, synced, emulator, new_user, shots_dir):
    """Signed in at home; the admin disables them in the emulator; within seconds their next page is the sign-in
    page saying why."""
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    app.config["PUBLIC_URL"] = portal_server + "/"
    try:
        assert jobs.maintain_live_updates(app)[synced.id] == "on, no change yet"
        microsoft_sign_in(page, portal_server, user["userPrincipalName"])
        page.wait_for_url(portal_server + "/home")
        began = time.monotonic()
        emulator.update_user(user["id"], accountEnabled=False)
        while time.monotonic() - began < 10 and "/login" not in page.url:
            page.wait_for_timeout(250)
            page.goto(portal_server + "/home")
        assert "/login" in page.url and time.monotonic() - began < 5
        expect(page.locator("#signin-reason")).to_contain_text("Your access has changed")
        assert_accessible(page)
        page.screenshot(path=str(shots_dir / "live-updates-signed-out.png"), full_page=True)
    finally:
        emulator.clear_subscriptions()
        app.config["LIVE_UPDATES_KICK"] = "none"
        for thread in threading.enumerate():
            if thread.name == "live-updates-kick":
                thread.join(30)
