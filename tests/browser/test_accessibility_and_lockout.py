"""axe-core on every main page (desktop, and phone width for requesters), and journey 4: lockout then unlock."""
import re

import sqlalchemy as sa
from playwright.sync_api import expect

from portal import jobs, signals, tickets
from portal.directory.runs import start_run
from portal.models import AuditEvent, Requester, Ticket
from portal.workflows import admin_service
from tests.browser.conftest import AXE, admin_signs_in, assert_accessible, microsoft_sign_in

ADMIN_PAGES = ["/admin/", "/admin/marketplace", "/admin/marketplace/entra/install", "/admin/integrations/{i}",
               "/admin/integrations/{i}/mapping", "/admin/integrations/{i}/sync", "/admin/integrations/{i}/secret",
               "/admin/sync/runs/{run}", "/admin/requesters", "/admin/requesters/{r}", "/admin/requesters?status=locked",
               "/admin/sessions", "/admin/audit", "/admin/audit/{event}", "/admin/tickets", "/admin/tickets/{t}",
               "/admin/workflows", "/admin/workflows/new", "/admin/catalogue", "/admin/settings", "/admin/settings/mail"]
REQUESTER_PAGES = ["/home", "/tickets/new", "/tickets/{t}", "/devices", "/profile"]




def test_every_main_page_passes_axe(portal_server, browser, page, app, db, admin, synced, catalogue, new_user):
    """No serious or critical axe violation on any admin or requester page, in light and dark, desktop and phone."""
    admin_service.save(None, "Unlock", [catalogue["Account locked out"].id], True,
                       [{"integration_id": synced.id, "action": "unlock"}], actor=signals.SYSTEM)
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    requester = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
    ticket = tickets.create(requester, catalogue["Account locked out"].id, "Locked out", "Please help")
    jobs.run_actions(app)
    ids = {"i": synced.id, "r": requester.id, "t": ticket.id, "event": db.session.scalar(sa.select(AuditEvent.id)),
           "run": 1}
    admin_signs_in(page, portal_server, admin)
    for path in ADMIN_PAGES:
        page.goto(portal_server + path.format(**ids))
        assert page.locator("h1").count() >= 1, path
        try:
            assert_accessible(page)
        except AssertionError as exc:
            raise AssertionError(f"{path}: {exc}") from None
    page.get_by_role("button", name="Switch between light and dark theme").click()
    for path in ("/admin/", "/admin/marketplace", "/admin/integrations/{i}/mapping"):
        page.goto(portal_server + path.format(**ids))
        try:
            assert_accessible(page)
        except AssertionError as exc:
            raise AssertionError(f"dark {path}: {exc}") from None
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_init_script(path=str(AXE))
    mobile = phone.new_page()
    try:
        microsoft_sign_in(mobile, portal_server, user["userPrincipalName"])
        mobile.wait_for_url(portal_server + "/home")
        for path in REQUESTER_PAGES:
            mobile.goto(portal_server + path.format(**ids))
            assert_accessible(mobile)
        expect(mobile.get_by_text("managed by your organisation's Microsoft account")).to_be_visible()
        assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling"
    finally:
        phone.close()


def test_lockout_then_admin_unlock(portal_server, browser, page, app, db, admin, synced, new_user, emulator, shots_dir):
    """Journey 4: five wrong passwords at Microsoft, read from Entra's sign-in logs, lock the requester; the page
    says until when; an admin unlocks them."""
    user = new_user()
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    for _ in range(5):
        microsoft_sign_in(page, portal_server, user["userPrincipalName"], "Wrong-Password-1")
        expect(page.get_by_text("Your account or password is incorrect")).to_be_visible()
    jobs.import_sign_ins(app)
    microsoft_sign_in(page, portal_server, user["userPrincipalName"])
    expect(page.get_by_role("heading", name="Your Frontdesk account is temporarily locked")).to_be_visible()
    expect(page.get_by_text("The lock lifts at")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "requester-locked.png"))
    admin_context = browser.new_context()
    admin_context.add_init_script(path=str(AXE))
    admin_page = admin_context.new_page()
    try:
        admin_signs_in(admin_page, portal_server, admin)
        admin_page.goto(portal_server + "/admin/requesters?status=locked")
        admin_page.get_by_role("link", name=user["displayName"]).click()
        expect(admin_page.locator("#lock-state")).to_contain_text("Locked until")
        admin_page.get_by_role("button", name="Unlock").click()
        expect(admin_page.get_by_text(f"{user['displayName']} is unlocked.")).to_be_visible()
    finally:
        admin_context.close()
    microsoft_sign_in(page, portal_server, user["userPrincipalName"])
    page.wait_for_url(re.compile(r"/home$"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
