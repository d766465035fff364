"""Admin pages in Chromium: no console errors (the strict CSP included), no overflow at 390 px, readable rows."""
from playwright.sync_api import expect

from tests.browser.conftest import admin_signs_in, assert_accessible

ADMIN_PAGES = ["/admin/", "/admin/marketplace", "/admin/tickets", "/admin/approvals", "/admin/workflows",
               "/admin/requesters", "/admin/sessions", "/admin/audit", "/admin/sign-ins", "/admin/settings"]


def console_errors(page) -> list[str]:
    """Collect console errors and uncaught exceptions of the page from now on (CSP refusals are console errors)."""
    errors = []
    page.on("console", lambda message: errors.append(f"{message.text} @ {message.location}") if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{exc} {exc.stack}"))
    return errors


def test_admin_pages_log_no_console_errors(portal_server, page, admin, synced):
    """htmx is told not to inject its indicator style, so `style-src 'self'` refuses nothing on any admin page."""
    errors = console_errors(page)
    admin_signs_in(page, portal_server, admin)
    for path in ADMIN_PAGES + [f"/admin/integrations/{synced.id}", f"/admin/integrations/{synced.id}/mapping"]:
        page.goto(portal_server + path)
        page.wait_for_load_state("networkidle")
        assert not errors, f"{path}: {errors}"
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    hidden = "(() => { const d = document.createElement('span'); d.className = 'htmx-indicator'; document.body.append(d);" \
             " return getComputedStyle(d).opacity; })()"
    assert page.evaluate(hidden) == "0"  # the indicator rules come from app.css


def test_admin_pages_fit_a_phone(portal_server, page, admin, synced, shots_dir):
    """At 390 px every admin page scrolls down, never sideways; the Sessions table stacks its rows."""
    admin_signs_in(page, portal_server, admin)
    page.set_viewport_size({"width": 390, "height": 844})
    wide = {}
    for path in ADMIN_PAGES + [f"/admin/integrations/{synced.id}", f"/admin/integrations/{synced.id}/mapping"]:
        page.goto(portal_server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
    assert not wide, f"wider than 390 px: {wide}"
    page.goto(portal_server + "/admin/sessions")
    expect(page.locator("#session-table td[data-label=Device]").first).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "admin-sessions-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})
    page.screenshot(path=str(shots_dir / "admin-sessions.png"), full_page=True)


def test_audit_log_names_people_and_has_room_to_filter(portal_server, page, app, admin, synced, catalogue, shots_dir):
    """A row about an action names its person, linked to their page; Target and Text are wide enough to type in."""
    from tests.integration.test_audit_people import _unlock_ticket

    person = _unlock_ticket(app, synced, catalogue)
    admin_signs_in(page, portal_server, admin)
    page.goto(portal_server + "/admin/audit")
    row = page.locator("#audit-table tr", has=page.locator("code", has_text="action.requested")).first
    expect(row).to_contain_text(f"unlock for {person.label}")
    for box in ("#target", "#text"):
        assert page.locator(box).bounding_box()["width"] >= 250, box
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "admin-audit.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots_dir / "admin-audit-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})
    row.get_by_role("link", name=person.label).click()
    expect(page).to_have_url(f"{portal_server}/admin/requesters/{person.id}")


def test_ticket_list_shows_real_progress(portal_server, page, app, admin, synced, catalogue, shots_dir):
    """A ticket whose action failed reads "Action failed" next to its status; one waiting reads so too."""
    from tests.integration.test_ticket_list_progress import queued_tickets, set_run_status

    failed, waiting, _ = queued_tickets(app, synced, catalogue, 3)
    set_run_status(failed, "failed")
    set_run_status(waiting, "awaiting_approval")
    admin_signs_in(page, portal_server, admin)
    page.goto(portal_server + "/admin/tickets")
    row = page.locator("tr", has=page.get_by_role("link", name=failed.subject))
    expect(row.locator("[data-progress=failed]")).to_have_text("Action failed")
    expect(page.locator("tr", has=page.get_by_role("link", name=waiting.subject)).locator("[data-progress]")) \
        .to_have_text("Waiting for approval")
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "admin-tickets.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots_dir / "admin-tickets-390.png"), full_page=True)
