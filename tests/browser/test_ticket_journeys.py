"""Journeys 2, 6 and 7: tickets that act on Entra accounts, seen in Chromium."""
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from portal import jobs, signals
from portal.directory.runs import start_run
from portal.extensions import db
from portal.models import Requester
from portal.workflows import admin_service
from tests.browser.conftest import assert_accessible, microsoft_sign_in


def _sync(app, synced):
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)


def _workflow(synced, catalogue, category, action, target="requester"):
    admin_service.save(None, f"{category}", [catalogue[category].id], True,
                       [{"integration_id": synced.id, "action": action, "target": target}], actor=signals.SYSTEM)




def _raise(page, category, subject, about=None, shots=None):
    page.get_by_role("link", name="Raise a ticket").first.click()
    expect(page.locator("#service-choice input:checked")).to_have_count(0)  # nothing chosen for the person
    page.locator(".service-card").filter(has=page.locator(".service-name", has_text=category)).click()
    expect(page.locator("#service-choice input:checked")).to_have_count(1)
    if shots:  # the catalogue cards, looked at on a desktop and on a phone
        assert_accessible(page)
        page.screenshot(path=str(shots / "raise-ticket.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(shots / "raise-ticket-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Description").fill("Raised from the browser journey.")
    if about:
        page.get_by_label("Person this is about (email)").fill(about)
    page.get_by_role("button", name="Raise ticket").click()


def _new_user_raises(page, portal_server, app, synced, catalogue, new_user, category, action, description):
    """A workflow on `category`, a fresh synced Microsoft user signed in, and their ticket raised; returns the user."""
    _workflow(synced, catalogue, category, action)
    user = new_user()
    _sync(app, synced)
    microsoft_sign_in(page, portal_server, user["userPrincipalName"], "Start-Password-1")
    page.wait_for_url(portal_server + "/home")
    _raise(page, category, description)
    return user


def test_locked_out_ticket_shows_the_unlock_on_the_timeline(portal_server, page, app, synced, catalogue, new_user,
                                                             emulator, shots_dir):
    """Journey 2: signed in on the laptop while failed sign-ins on a phone locked Frontdesk, the person raises
    'Account locked out' and sees the workflow lift the lock."""
    _workflow(synced, catalogue, "Account locked out", "unlock")
    user = new_user()
    _sync(app, synced)
    microsoft_sign_in(page, portal_server, user["userPrincipalName"], "Start-Password-1")
    page.wait_for_url(portal_server + "/home")
    person = db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == user["id"]))
    person.locked_until = datetime.now(UTC) + timedelta(minutes=15)
    db.session.commit()
    _raise(page, "Account locked out", "I keep getting locked out", shots=shots_dir)
    expect(page.locator("#timeline")).to_contain_text("Your account is unlocked. You can sign in again.")
    expect(page.get_by_text("Ticket raised: Account locked out.")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "ticket-timeline.png"), full_page=True)


def _context_page(browser):
    from tests.browser.conftest import AXE

    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.add_init_script(path=str(AXE))
    return context, context.new_page()


def test_leaver_ticket_waits_for_the_manager_then_disables(portal_server, browser, page, app, synced, catalogue,
                                                           new_user, emulator, shots_dir):
    """Journey 6: an analyst's leaver ticket for a colleague does nothing until the colleague's manager approves it
    from their home page; then the leaver's session ends and Microsoft refuses their sign-in."""
    _workflow(synced, catalogue, "Leaver: disable account", "disable", target="ticket_subject")
    manager = new_user(givenName="Morgan", displayName="Morgan Manager")
    leaver, analyst = new_user(managerId=manager["id"]), new_user()
    _sync(app, synced)
    leaver_context, leaver_page = _context_page(browser)
    manager_context, manager_page = _context_page(browser)
    try:
        microsoft_sign_in(leaver_page, portal_server, leaver["userPrincipalName"], "Start-Password-1")
        leaver_page.wait_for_url(portal_server + "/home")
        microsoft_sign_in(page, portal_server, analyst["userPrincipalName"], "Start-Password-1")
        page.wait_for_url(portal_server + "/home")
        _raise(page, "Leaver: disable account", "Leaver today", about=leaver["mail"])
        expect(page.locator("#timeline")).to_contain_text("Waiting for approval by Morgan Manager or an IT admin.")
        assert emulator.user(leaver["id"])["props"]["accountEnabled"] is True  # nothing happened yet
        page.screenshot(path=str(shots_dir / "leaver-waiting.png"), full_page=True)
        microsoft_sign_in(manager_page, portal_server, manager["userPrincipalName"], "Start-Password-1")
        manager_page.wait_for_url(portal_server + "/home")
        expect(manager_page.locator("#approvals-for-me")).to_contain_text("Leaver: disable account for")
        manager_page.screenshot(path=str(shots_dir / "manager-home-approval.png"), full_page=True)
        manager_page.locator("#approvals-for-me a").first.click()
        expect(manager_page.locator("#approval-target")).to_contain_text(leaver["displayName"])
        manager_page.get_by_label("Comment").fill("Last day was Friday.")
        assert_accessible(manager_page)
        manager_page.screenshot(path=str(shots_dir / "approval-page.png"), full_page=True)
        manager_page.get_by_role("button", name="Approve").click()
        expect(manager_page.get_by_role("alert").or_(manager_page.locator(".alert"))).to_contain_text("approved")
        assert emulator.user(leaver["id"])["props"]["accountEnabled"] is False
        page.reload()
        expect(page.locator("#timeline")).to_contain_text("The account is disabled and signed out everywhere.")
        expect(page.locator("#timeline")).to_contain_text("Approved by Morgan Manager (Last day was Friday.)")
        expect(page.locator('[data-status="resolved"]').first).to_be_visible()  # the ticket followed its action
        leaver_page.reload()
        expect(leaver_page.locator("#signin-reason")).to_be_visible()
        leaver_page.get_by_role("button", name="Sign in with Microsoft").click()
        leaver_page.get_by_label("Email, phone, or Skype").fill(leaver["userPrincipalName"])
        leaver_page.get_by_label("Password").fill("Start-Password-1")
        leaver_page.get_by_role("button", name="Sign in", exact=True).click()
        expect(leaver_page.get_by_role("heading", name="Your Microsoft account is disabled")).to_be_visible()
        assert_accessible(leaver_page)
        leaver_page.screenshot(path=str(shots_dir / "leaver-refused.png"))
    finally:
        leaver_context.close()
        manager_context.close()


def test_password_reset_mail_and_forced_change(portal_server, page, app, synced, catalogue, new_user, emulator,
                                               mailbox, shots_dir):
    """Journey 7: the reset mail reaches the SMTP server; the next Microsoft sign-in demands a new password."""
    user = _new_user_raises(page, portal_server, app, synced, catalogue, new_user, "Reset my password",
                            "force_password_reset", "Please reset my password")
    page.wait_for_url(re.compile(r"/login"))  # the reset ended this session too
    assert len(mailbox) == 2 and mailbox[1]["Subject"].endswith("is now: resolved")  # the password, then the status
    body = next(p for p in mailbox[0].walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    temporary = re.search(r"Temporary password: (\S+)", body).group(1)
    microsoft_sign_in(page, portal_server, user["userPrincipalName"], temporary)
    expect(page.get_by_role("heading", name="Update your password")).to_be_visible()
    page.screenshot(path=str(shots_dir / "forced-password-change.png"))
    page.get_by_label("New password").fill("Brand-New-Pass-2026")
    page.get_by_label("Confirm password").fill("Brand-New-Pass-2026")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(portal_server + "/home")
    expect(page.locator("main")).to_contain_text("Your password was reset")


def test_admin_approves_from_the_dashboard_and_acts_from_a_requester_page(portal_server, page, app, db, synced,
                                                                          catalogue, new_user, emulator, admin,
                                                                          shots_dir):
    """An admin sees the waiting approval on the dashboard, decides it on its page, then disables another person
    from their requester page with a reason; both show on the tickets and in Entra."""
    import sqlalchemy as sa

    from portal import tickets
    from portal.models import Requester
    from tests.conftest import ADMIN_PASSWORD

    _workflow(synced, catalogue, "Leaver: disable account", "disable", target="ticket_subject")
    raiser, leaver, other = new_user(), new_user(displayName="Lee Leaver"), new_user(displayName="Olu Other")
    _sync(app, synced)
    people = {p.entra_object_id: p for p in db.session.scalars(sa.select(Requester))}
    tickets.create(people[raiser["id"]], catalogue["Leaver: disable account"].id, "Lee left", "Last day Friday",
                   leaver["mail"])
    page.goto(portal_server + "/admin/login")
    page.get_by_label("Email address").fill(admin.email)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#approvals-waiting")).to_contain_text("1 approval waits for you.")
    page.get_by_role("link", name="Open approvals").click()
    expect(page.get_by_role("heading", name="Waiting for you")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "admin-approvals.png"), full_page=True)
    page.get_by_role("link", name="Decide").first.click()
    page.get_by_label("Comment").fill("HR confirmed.")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".alert").first).to_contain_text("approved")
    assert emulator.user(leaver["id"])["props"]["accountEnabled"] is False
    page.goto(portal_server + f"/admin/requesters/{people[other['id']].id}")
    page.get_by_label("Action", exact=True).select_option(label="Disable (Lock) User Account")
    page.get_by_label("Reason").fill("Laptop reported stolen")
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "admin-account-actions.png"), full_page=True)
    page.get_by_role("button", name="Run action").click()
    expect(page.locator("#timeline")).to_contain_text("Laptop reported stolen")
    page.screenshot(path=str(shots_dir / "admin-action-ticket.png"), full_page=True)
    assert emulator.user(other["id"])["props"]["accountEnabled"] is False
