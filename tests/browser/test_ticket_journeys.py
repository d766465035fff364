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




def _raise(page, category, subject, about=None):
    page.get_by_role("link", name="Raise a ticket").first.click()
    page.get_by_label("Service").select_option(label=category)
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
    _raise(page, "Account locked out", "I keep getting locked out")
    expect(page.locator("#timeline")).to_contain_text("Your account is unlocked. You can sign in again.")
    expect(page.get_by_text("Ticket raised: Account locked out.")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "ticket-timeline.png"), full_page=True)


def test_leaver_ticket_ends_the_session_and_blocks_sign_in(portal_server, browser, page, app, synced, catalogue,
                                                            new_user, emulator, shots_dir):
    """Journey 6: a manager's leaver ticket disables the leaver, whose open session ends and sign-in is refused."""
    from tests.browser.conftest import AXE

    _workflow(synced, catalogue, "Leaver: disable account", "disable", target="ticket_subject")
    leaver, manager = new_user(), new_user()
    _sync(app, synced)
    leaver_context = browser.new_context()
    leaver_context.add_init_script(path=str(AXE))
    leaver_page = leaver_context.new_page()
    try:
        microsoft_sign_in(leaver_page, portal_server, leaver["userPrincipalName"], "Start-Password-1")
        leaver_page.wait_for_url(portal_server + "/home")
        microsoft_sign_in(page, portal_server, manager["userPrincipalName"], "Start-Password-1")
        page.wait_for_url(portal_server + "/home")
        _raise(page, "Leaver: disable account", "Leaver today", about=leaver["mail"])
        expect(page.locator("#timeline")).to_contain_text("The account is disabled and signed out everywhere.")
        leaver_page.reload()
        expect(leaver_page.locator("#signin-reason")).to_be_visible()
        leaver_page.get_by_role("button", name="Sign in with Microsoft").click()
        leaver_page.get_by_label("Email, phone, or Skype").fill(leaver["userPrincipalName"])
        leaver_page.get_by_label("Password").fill("Start-Password-1")
        leaver_page.get_by_role("button", name="Sign in").click()
        expect(leaver_page.get_by_role("heading", name="Your Microsoft account is disabled")).to_be_visible()
        assert_accessible(leaver_page)
        leaver_page.screenshot(path=str(shots_dir / "leaver-refused.png"))
    finally:
        leaver_context.close()


def test_password_reset_mail_and_forced_change(portal_server, page, app, synced, catalogue, new_user, emulator,
                                               mailbox, shots_dir):
    """Journey 7: the reset mail reaches the SMTP server; the next Microsoft sign-in demands a new password."""
    user = _new_user_raises(page, portal_server, app, synced, catalogue, new_user, "Reset my password",
                            "force_password_reset", "Please reset my password")
    page.wait_for_url(re.compile(r"/login"))  # the reset ended this session too
    assert len(mailbox) == 1
    body = next(p for p in mailbox[0].walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    temporary = re.search(r"Temporary password: (\S+)", body).group(1)
    microsoft_sign_in(page, portal_server, user["userPrincipalName"], temporary)
    expect(page.get_by_role("heading", name="Update your password")).to_be_visible()
    page.screenshot(path=str(shots_dir / "forced-password-change.png"))
    page.get_by_label("New password").fill("Brand-New-Pass-2026")
    page.get_by_label("Confirm password").fill("Brand-New-Pass-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(portal_server + "/home")
    expect(page.locator("main")).to_contain_text("Your password was reset")
