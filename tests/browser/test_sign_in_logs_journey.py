"""Journey: wrong passwords typed at Microsoft lock a requester in Frontdesk; she asks IT through the public form;
an admin approves the Unlock; she signs in."""
from playwright.sync_api import expect

from portal import jobs, signals
from portal.directory.runs import start_run
from portal.workflows import admin_service
from tests.browser.conftest import assert_accessible, microsoft_sign_in
from tests.conftest import ADMIN_PASSWORD


def test_wrong_passwords_at_microsoft_lock_then_ask_it_and_unlock(portal_server, browser, page, app, db, synced,
                                                                  catalogue, new_user, emulator, admin, shots_dir):
    """Five wrong passwords at the emulator; after one import the admin sees five failures with their reason and a
    Frontdesk lock; the requester, refused, asks IT; the admin approves the Unlock workflow; she signs in."""
    import sqlalchemy as sa

    from portal.models import Requester

    admin_service.save(None, "Unlock", [catalogue["Account locked out"].id], True,
                       [{"integration_id": synced.id, "action": "unlock", "target": "requester"}], actor=signals.SYSTEM)
    emulator.clear_sign_ins()
    user = new_user(displayName="Lin Locked")
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    person = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
    for _ in range(5):
        microsoft_sign_in(page, portal_server, user["userPrincipalName"], "Wrong-Password-1")
        expect(page.get_by_text("Your account or password is incorrect")).to_be_visible()
    jobs.import_sign_ins(app)

    admin_context = browser.new_context(viewport={"width": 1280, "height": 900})
    admin_page = admin_context.new_page()
    try:
        admin_page.goto(portal_server + "/admin/login")
        admin_page.get_by_label("Email address").fill(admin.email)
        admin_page.get_by_label("Password").fill(ADMIN_PASSWORD)
        admin_page.get_by_role("button", name="Sign in", exact=True).click()
        admin_page.goto(portal_server + f"/admin/requesters/{person.id}")
        expect(admin_page.locator("#sign-in-history li", has_text="Wrong password")).to_have_count(5)
        expect(admin_page.locator("#lock-state")).to_contain_text("Locked until")
        admin_page.screenshot(path=str(shots_dir / "requester-sign-in-history.png"), full_page=True)

        microsoft_sign_in(page, portal_server, user["userPrincipalName"])
        expect(page.get_by_role("heading", name="Your Frontdesk account is temporarily locked")).to_be_visible()
        page.get_by_role("link", name="Can't sign in? Ask IT").click()
        page.get_by_label("Your work email").fill(user["mail"])
        page.get_by_label("What happens when you try to sign in?").fill("It says I am locked.")
        assert_accessible(page)
        page.get_by_role("button", name="Send to IT").click()
        expect(page.get_by_role("heading", name="Sent to IT: ticket #")).to_be_visible()
        page.screenshot(path=str(shots_dir / "ask-it-sent.png"))

        admin_page.goto(portal_server + "/admin/approvals")
        expect(admin_page.get_by_text("asked from the public form as")).to_be_visible()
        admin_page.get_by_role("link", name="Decide").first.click()
        admin_page.get_by_label("Comment").fill("Called her back on her desk phone.")
        admin_page.get_by_role("button", name="Approve").click()
        expect(admin_page.locator(".alert").first).to_contain_text("approved")
    finally:
        admin_context.close()
    microsoft_sign_in(page, portal_server, user["userPrincipalName"])
    page.wait_for_url(portal_server + "/home")
    expect(page.locator("main")).to_contain_text("Your account is unlocked. You can sign in again.")
