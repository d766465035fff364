"""Admin journey in a real browser: sign in, see the dashboard, change a setting, sign out."""
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible
from tests.conftest import ADMIN_PASSWORD


def test_admin_signs_in_and_out_in_chromium(portal_server, page, admin, shots_dir):
    """The styled welcome page leads to admin sign-in; the dashboard shows; sign-out returns to sign-in."""
    page.goto(portal_server + "/")
    expect(page.get_by_role("heading", name="IT help, without the wait")).to_be_visible()
    expect(page.locator("#welcome-sign-in")).to_have_class("btn btn-primary btn-lg mt-2")  # styled (app.css loaded)
    assert page.evaluate("getComputedStyle(document.querySelector('#welcome-sign-in')).display") == "inline-block"
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "welcome.png"))

    page.get_by_role("link", name="IT staff sign-in").click()
    page.get_by_label("Email address").fill(admin.email)
    page.get_by_label("Password").fill("wrong password!!")
    page.get_by_role("button", name="Sign in", exact=True).click()
    assert "not correct" in page.locator("#login-error").inner_text()
    assert_accessible(page)

    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(portal_server + "/admin/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Welcome back, Ops Admin.")).to_be_visible()
    assert page.evaluate("!!Chart.getChart(document.querySelector('canvas[data-chart=\"sign-ins\"]'))")
    page.get_by_text("Show as a table").first.click()
    expect(page.locator("#signin-h").locator("xpath=..").locator("tbody tr")).to_have_count(14)
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "admin-dashboard.png"), full_page=True)

    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Idle timeout (minutes)").fill("40")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved (1 changed).")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(portal_server + "/admin/login")
    expect(page.get_by_text("You have been signed out.")).to_be_visible()


def test_dark_theme_toggle_persists(portal_server, page):
    """The theme button switches to dark and the choice survives a reload."""
    page.goto(portal_server + "/")
    before = page.evaluate("document.documentElement.getAttribute('data-bs-theme')")
    page.get_by_role("button", name="Switch between light and dark theme").click()
    after = page.evaluate("document.documentElement.getAttribute('data-bs-theme')")
    assert {before, after} == {"light", "dark"}
    page.reload()
    assert page.evaluate("document.documentElement.getAttribute('data-bs-theme')") == after
    assert_accessible(page)
