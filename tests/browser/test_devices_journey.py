"""Journey 5: two browsers signed in as one requester; one signs the other out from My devices."""
from playwright.sync_api import expect

from portal import jobs
from portal.directory.runs import start_run
from tests.browser.conftest import assert_accessible, microsoft_sign_in


def test_admin_session_filters_update_in_place(portal_server, page, app, admin, synced, new_user):
    """The Sessions filters refresh the results through htmx and keep the filter in the address bar."""
    from tests.conftest import ADMIN_PASSWORD

    page.goto(portal_server + "/admin/login")
    page.get_by_label("Email address").fill(admin.email)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("link", name="Sessions").click()
    expect(page.locator("#session-table tbody tr")).to_have_count(1)
    page.evaluate("window.__same_page = true")
    page.get_by_label("Device type").select_option("mobile")
    expect(page.get_by_text("No live session matches.")).to_be_visible()
    assert "device_type=mobile" in page.url and page.evaluate("window.__same_page === true")


def test_one_device_signs_the_other_out(portal_server, browser, app, synced, new_user, shots_dir):
    """Context A ends context B from My devices; B's next page is the sign-in page with the reason."""
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    laptop = browser.new_context(viewport={"width": 1280, "height": 860})
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, user_agent=(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Mobile/15E148 Safari/604.1"))
    from tests.browser.conftest import AXE

    for context in (laptop, phone):
        context.add_init_script(path=str(AXE))
    a, b = laptop.new_page(), phone.new_page()
    try:
        microsoft_sign_in(a, portal_server, user["userPrincipalName"])
        a.wait_for_url(portal_server + "/home")
        microsoft_sign_in(b, portal_server, user["userPrincipalName"])
        b.wait_for_url(portal_server + "/home")
        a.get_by_role("link", name="My devices").click()
        expect(a.locator("#device-list li")).to_have_count(2)
        expect(a.get_by_text("This device")).to_have_count(1)
        assert_accessible(a)
        a.screenshot(path=str(shots_dir / "my-devices.png"), full_page=True)
        a.evaluate("window.__same_page = true")
        a.once("dialog", lambda dialog: dialog.dismiss())
        a.get_by_role("button", name="Sign out Mobile Safari 17 on iPhone").click()
        expect(a.locator("#device-list li")).to_have_count(2)  # dismissed: nothing sent
        a.once("dialog", lambda dialog: dialog.accept())
        a.get_by_role("button", name="Sign out Mobile Safari 17 on iPhone").click()
        expect(a.get_by_text("Signed out Mobile Safari 17 on iPhone.")).to_be_visible()
        expect(a.locator("#device-list li")).to_have_count(1)
        assert a.evaluate("window.__same_page === true"), "the list refreshed through htmx, not a full page load"
        b.reload()
        expect(b.locator("#signin-reason")).to_contain_text("signed out from another device")
        assert_accessible(b)
        b.screenshot(path=str(shots_dir / "signed-out-by-other-device.png"))
    finally:
        laptop.close()
        phone.close()
