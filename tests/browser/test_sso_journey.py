"""Requester journeys in Chromium: Microsoft sign-in across sites (form_post), home, sign-out; error pages."""
import re

from playwright.sync_api import expect

from portal import jobs
from portal.directory.runs import start_run
from tests.browser.conftest import assert_accessible


def _microsoft_sign_in(page, username, password):
    expect(page.get_by_text("Entra ID emulator")).to_be_visible()
    page.get_by_label("Email, phone, or Skype").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def test_requester_signs_in_with_microsoft_and_out(portal_server, page, app, synced, new_user, emulator, shots_dir):
    """The cross-site form_post comes back into the Lax session; home shows; sign-out ends at Microsoft and returns."""
    user = new_user(givenName="Zoë")
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    page.goto(portal_server + "/")
    expect(page.get_by_role("link", name="Sign in with Microsoft")).to_have_count(0)  # the choice is shown once
    page.locator("#welcome-sign-in").click()
    expect(page.get_by_role("button", name="Sign in with Microsoft")).to_have_count(1)
    assert page.evaluate("getComputedStyle(document.querySelector('.btn-microsoft')).backgroundColor") == "rgb(47, 47, 47)"
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "requester-sign-in.png"))
    page.get_by_role("button", name="Sign in with Microsoft").click()
    _microsoft_sign_in(page, user["userPrincipalName"], "Start-Password-1")
    page.wait_for_url(portal_server + "/home")
    expect(page.get_by_role("heading", name="Hello, Zoë")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(portal_server + "/signed-out")
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    page.goto(portal_server + "/home")
    page.wait_for_url(re.compile(r"/login\?next=/home$"))


def test_error_pages_in_the_browser(portal_server, page, app, synced, new_user, emulator, shots_dir):
    """Wrong password stays at Microsoft; Cancel and an unsynced user each land on their own page."""
    stranger = new_user()
    page.goto(portal_server + "/login")
    page.get_by_role("button", name="Sign in with Microsoft").click()
    _microsoft_sign_in(page, stranger["userPrincipalName"], "not the password")
    expect(page.locator("#error-message")).to_contain_text("incorrect")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="Sign-in cancelled")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Try again").click()
    page.get_by_role("button", name="Sign in with Microsoft").click()
    expect(page.get_by_label("Password")).to_be_visible()
    page.get_by_label("Email, phone, or Skype").fill(stranger["userPrincipalName"])
    page.get_by_label("Password").fill("Start-Password-1")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Your account is not set up in Frontdesk")).to_be_visible()
    expect(page.locator("#error-reference")).not_to_be_empty()
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "sign-in-not-synced.png"))
