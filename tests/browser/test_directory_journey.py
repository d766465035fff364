"""Journey 1: an admin installs Entra ID, verifies, maps fields with the preview and watches the first sync."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from portal.entra.permissions import FEATURES
from tests.browser.conftest import assert_accessible
from tests.conftest import ADMIN_PASSWORD, point_at


def assert_department_is_company(page, emulator):
    """Each preview row's Department shows that user's own companyName (not whichever users Graph lists first)."""
    rows = page.evaluate("""() => { const t = document.querySelector('#preview-table');
        const labels = [...t.querySelectorAll('thead th')].map(th => th.textContent.trim());
        return [...t.querySelectorAll('tbody tr')].map(tr => Object.fromEntries(
            [...tr.querySelectorAll('td')].map((td, i) => [labels[i], td.textContent.trim()]))); }""")
    users = {u.props["userPrincipalName"]: u.props
             for u in emulator.running.state.directory.tenants[emulator.tenant_id].users.values()}
    assert len(rows) == 5
    for row in rows:
        expected = users[row["User principal name (UPN)"]].get("companyName") or "—"
        assert row["Department"] == expected


@pytest.mark.settings(SYNC_KICK="thread")
def test_install_verify_map_and_sync(portal_server, page, admin, app, emulator, shots_dir):
    """From Marketplace to a listed requester, every step in Chromium, with axe on each page."""
    point_at(app, emulator)
    creds = emulator.app()
    page.goto(portal_server + "/admin/login")
    page.get_by_label("Email address").fill(admin.email)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("No integration yet")).to_be_visible()

    page.get_by_label("Main navigation").get_by_role("link", name="Marketplace").click()
    expect(page.get_by_text("Not installed")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Install", exact=True).click()
    page.get_by_label("Display name").fill("Contoso staff")
    page.get_by_label("Directory (tenant) ID").fill(emulator.tenant_id)
    page.get_by_label("Application (client) ID").fill(creds["client_id"])
    page.get_by_label("Client secret value").fill("wrong-secret")
    page.get_by_label("Secret expires on").fill((date.today() + timedelta(days=120)).isoformat())
    assert_accessible(page)
    page.get_by_role("button", name="Verify and install").click()
    expect(page.locator("#verify-error")).to_contain_text("The client secret is wrong")
    expect(page.locator("#verify-error")).to_contain_text("AADSTS7000215")
    page.screenshot(path=str(shots_dir / "install-error.png"), full_page=True)
    expect(page.locator("#secret-kept")).to_have_count(0)  # Microsoft refused that secret: it is not kept
    page.get_by_label("Client secret value").fill(creds["client_secret"])
    page.get_by_label("Secret expires on").fill("2001-01-01")  # a validation error on another field
    page.get_by_role("button", name="Verify and install").click()
    expect(page.get_by_text("already expired")).to_be_visible()
    expect(page.locator("#secret-kept")).to_contain_text(f"ending {creds['client_secret'][-4:]}")
    expect(page.get_by_label("Client secret value")).to_have_value("")
    assert creds["client_secret"] not in page.content()  # kept on the server, encrypted; never in the page
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "install-secret-kept.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots_dir / "install-secret-kept-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_label("Secret expires on").fill((date.today() + timedelta(days=120)).isoformat())
    page.get_by_role("button", name="Verify and install").click()  # the secret is not typed again

    expect(page.get_by_text("Verified and installed")).to_be_visible()
    expect(page.locator("#checklist .bi-check-circle-fill")).to_have_count(len(FEATURES))
    next_step = page.get_by_role("link", name="Next: map fields")
    expect(next_step).to_have_class(re.compile(r"\bbtn-primary\b"))
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "integration-checklist.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots_dir / "integration-checklist-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})

    next_step.click()
    expect(page.get_by_role("heading", name="Field mapping")).to_be_visible()
    page.get_by_role("tab", name="Work").click()
    page.get_by_label("Department").select_option("companyName")
    page.get_by_label("Company").select_option("")
    page.get_by_role("button", name="Preview 5 users").click()
    expect(page.locator("#preview-table tbody tr")).to_have_count(5)
    assert_department_is_company(page, emulator)
    manager = page.locator("#preview-table .manager-name").first  # 'Reports to' names the person, the id in a title
    expect(manager).to_have_attribute("title", re.compile(r"^Object id [0-9a-f-]{36}$"))
    expect(manager).not_to_have_text(re.compile(r"^[0-9a-f-]{36}$"))
    manager.scroll_into_view_if_needed()
    page.locator("#mapping-preview").screenshot(path=str(shots_dir / "mapping-preview-manager.png"))
    page.get_by_label("Company").select_option("companyName")
    page.get_by_label("Department").select_option("department")
    page.get_by_role("button", name="Preview 5 users").click()  # a second preview: the button is still there, and works
    expect(page.locator("#preview-table tbody tr")).to_have_count(5)
    expect(page.get_by_role("button", name="Preview 5 users")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways growth
    page.get_by_label("Department").select_option("companyName")
    page.get_by_label("Company").select_option("")
    with page.expect_response(lambda r: "/mapping" in r.url and r.request.method == "POST"):
        page.get_by_role("button", name="Preview 5 users").click()
    page.wait_for_load_state("networkidle")
    assert_department_is_company(page, emulator)
    page.wait_for_load_state("networkidle")
    page.mouse.move(0, 0)  # axe would otherwise catch the hovered button halfway through its colour transition
    page.wait_for_timeout(300)
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "mapping-preview.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots_dir / "mapping-preview-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_role("button", name="Preview changes").click()  # a dry run of the whole tenant, nothing written

    expect(page.get_by_role("heading", name="Dry run of a full sync")).to_be_visible()
    expect(page.locator("#progress .progress-bar")).to_have_text("Done", timeout=30_000)
    expect(page.locator("#preview-note")).to_contain_text("wrote nothing")
    predicted = int(page.locator('[data-count="created"]').inner_text())
    expect(page.locator("#run-changes tbody tr")).to_have_count(20)  # 20 examples of people it would create
    expect(page.locator("#run-changes")).to_contain_text("Contoso Ltd")  # the previewed mapping's values
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "dry-run.png"), full_page=True)
    page.get_by_role("button", name="Save this mapping and sync").click()

    expect(page.get_by_role("heading", name="Full sync")).to_be_visible()
    expect(page.locator("#progress .progress-bar")).to_have_text("Done", timeout=30_000)
    expect(page.locator("#progress")).to_contain_text("succeeded")
    created = int(page.locator('[data-count="created"]').inner_text())
    assert created >= 300 and created == predicted
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "sync-run.png"), full_page=True)

    page.get_by_role("link", name="See requesters").click()
    page.get_by_label("Search").fill("Adele")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Adele Vance")).to_be_visible()
    assert_accessible(page)
