"""Admins sign in with Microsoft in Chromium: an IT-Admins member reaches the dashboard; a Helpdesk member without a
role gets a clear page; the Roles page says why each admin is one."""
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AXE, assert_accessible


def _microsoft_sign_in(page, username):
    expect(page.get_by_text("Entra ID emulator")).to_be_visible()
    page.get_by_label("Email, phone, or Skype").fill(username)
    page.get_by_label("Password").fill("Start-Password-1")
    page.get_by_role("button", name="Sign in", exact=True).click()


@pytest.fixture
def seeded_members(emulator, new_user):
    """A new IT-Admins member and a new Helpdesk member, taken out again so the seeded groups stay as seeded."""
    chief, helper = new_user(givenName="Ines"), new_user(givenName="Hugo")
    admins, helpdesk = emulator.group_id("IT-Admins"), emulator.group_id("Helpdesk")
    emulator.add_member(admins, chief["id"])
    emulator.add_member(helpdesk, helper["id"])
    yield chief, helper
    emulator.remove_member(admins, chief["id"])
    emulator.remove_member(helpdesk, helper["id"])


def test_it_admins_member_signs_in_and_a_helpdesk_member_is_refused(portal_server, page, browser, synced,
                                                                     seeded_members, shots_dir):
    """IT-Admins holds the Frontdesk.Admin app role: its member lands on the dashboard and sees their provenance on
    the Roles page; a Helpdesk member is told they are not an admin, with a reference."""
    chief, helper = seeded_members
    page.goto(portal_server + "/admin/login")
    expect(page.locator("#break-glass-note")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "admin-sign-in-microsoft.png"), full_page=True)
    page.get_by_role("button", name="Sign in with Microsoft").click()
    _microsoft_sign_in(page, chief["userPrincipalName"])
    page.wait_for_url(portal_server + "/admin/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("break-glass account")).to_have_count(0)  # Microsoft admins are not break-glass
    page.goto(portal_server + f"/admin/integrations/{synced.id}/roles")
    expect(page.locator("#microsoft-admins")).to_contain_text("admin because assigned the app role Frontdesk.Admin")
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "admin-roles.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots_dir / "admin-roles-390.png"), full_page=True)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.add_init_script(path=str(AXE))
    other = context.new_page()
    other.goto(portal_server + "/admin/login")
    other.get_by_role("button", name="Sign in with Microsoft").click()
    _microsoft_sign_in(other, helper["userPrincipalName"])
    expect(other.get_by_role("heading", name="You are not a Frontdesk admin")).to_be_visible()
    expect(other.locator("#error-reference")).not_to_be_empty()
    expect(other.get_by_role("link", name="Back to sign-in")).to_have_attribute("href", "/admin/login")
    assert_accessible(other)
    other.screenshot(path=str(shots_dir / "admin-not-an-admin.png"), full_page=True)
    other.goto(portal_server + "/admin/")
    expect(other).to_have_url(portal_server + "/admin/login?next=/admin/")
    context.close()
