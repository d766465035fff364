"""The two editors in Chromium, on a desktop and at 390 px: an admin builds a workflow step by step with the keyboard,
and a person raises a ticket by picking a service card."""
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.extensions import db
from portal.models import Workflow
from tests.browser.conftest import admin_signs_in, assert_accessible, microsoft_sign_in
from tests.browser.test_ticket_journeys import _sync

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _focused(page) -> str:
    return page.evaluate("document.activeElement.id")


def _settled(page):
    """Wait for CSS transitions (a focused button fades to its focus colours) before axe measures contrast."""
    page.evaluate("async () => { await Promise.all(document.getAnimations().map(a => a.finished)); }")


def _build_workflow(page, server, size, shots, name):
    """Services ticked, two steps added one at a time, the second moved up with the keyboard, then saved."""
    page.set_viewport_size(size)
    page.goto(server + "/admin/workflows/new")
    page.get_by_label("Name", exact=True).fill(name)
    warning = page.locator("#scope-all-warning")
    expect(warning).to_be_hidden()
    page.get_by_label("Every ticket").check()
    expect(warning).to_be_visible()  # the warning shows while 'Every ticket' is chosen
    _settled(page)
    assert_accessible(page)  # the services, greyed while 'Every ticket' is chosen, stay readable
    page.get_by_label("Account locked out").check()  # ticking a service means 'only these services'
    expect(page.get_by_label("Only these services")).to_be_checked()
    expect(warning).to_be_hidden()
    expect(page.locator("#step-1")).to_have_count(0)  # one step to start, on the only integration
    expect(page.locator("#step_0_integration option:checked")).not_to_have_text("—")
    page.locator("#step-0").get_by_label("Unlock User Account").check()
    page.get_by_role("button", name="Add step").click()
    expect(page.locator("#step-moved")).to_have_text("Step 2 added.")
    assert _focused(page) == "step_1_integration"
    page.locator("#step-1").get_by_label("Revoke Sign-in Sessions").check()
    page.get_by_role("button", name="Move step 2 up").focus()
    page.keyboard.press("Enter")  # no drag and drop: a button, from the keyboard
    expect(page.locator("#step-moved")).to_have_text("Step 2 moved up: it is now step 1.")
    assert _focused(page) == "step-0-down"
    expect(page.locator("#step-0").get_by_label("Revoke Sign-in Sessions")).to_be_checked()
    expect(page.locator("#step-1").get_by_label("Unlock User Account")).to_be_checked()
    expect(page.get_by_label("Only these services")).to_be_checked()
    assert _fits(page), "the workflow editor scrolls sideways"
    _settled(page)
    assert_accessible(page)
    page.screenshot(path=str(shots / f"workflow-editor-{size['width']}.png"), full_page=True)
    page.get_by_role("button", name="Save workflow").last.click()
    page.wait_for_url(server + "/admin/workflows")
    expect(page.get_by_text(f"Workflow '{name}' saved.")).to_be_visible()


def test_an_admin_builds_a_workflow_step_by_step(portal_server, page, admin, integration, catalogue, shots_dir):
    """On a desktop and on a phone: the saved steps keep the order shown, after the move."""
    admin_signs_in(page, portal_server, admin)
    for size, name in ((DESKTOP, "Unlock, desktop"), (PHONE, "Unlock, phone")):
        _build_workflow(page, portal_server, size, shots_dir, name)
        saved = db.session.scalar(sa.select(Workflow).where(Workflow.name == name))
        assert [s.action for s in saved.steps] == ["revoke_sessions", "unlock"]
        assert saved.category_ids == [catalogue["Account locked out"].id]
    page.set_viewport_size(PHONE)
    assert _fits(page)
    page.screenshot(path=str(shots_dir / "workflows-390.png"), full_page=True)


def test_saving_only_these_services_with_none_ticked_is_explained(portal_server, page, admin, integration, catalogue,
                                                                  shots_dir):
    """The error is listed at the top, linked to the choice it is about, and the page still fits a phone."""
    admin_signs_in(page, portal_server, admin)
    page.set_viewport_size(PHONE)
    page.goto(portal_server + "/admin/workflows/new")
    page.get_by_label("Name", exact=True).fill("Nothing ticked")
    page.get_by_label("Only these services").check()
    page.locator("#step-0").get_by_label("Unlock User Account").check()
    page.get_by_role("button", name="Save workflow").last.click()
    link = page.locator("#workflow-errors").get_by_role("link", name="Tick at least one service, or choose Every ticket.")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_label("Only these services")).to_be_focused()
    assert _fits(page) and db.session.scalar(sa.select(sa.func.count()).select_from(Workflow)) == 0
    _settled(page)
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "workflow-editor-error-390.png"), full_page=True)


def test_a_person_picks_a_service_card(portal_server, page, app, synced, catalogue, new_user, shots_dir):
    """No card is chosen at first; raising without one says so on the cards; a card is picked with the keyboard
    (focus and choice both visible) on a desktop and by tapping on a phone."""
    user = new_user()
    _sync(app, synced)
    microsoft_sign_in(page, portal_server, user["userPrincipalName"])
    page.wait_for_url(portal_server + "/home")
    for size, how in ((DESKTOP, "keyboard"), (PHONE, "tap")):
        page.set_viewport_size(size)
        page.goto(portal_server + "/tickets/new")
        expect(page.locator("#service-choice input:checked")).to_have_count(0)
        page.get_by_label("Subject").fill(f"Help by {how}")
        page.get_by_role("button", name="Raise ticket").click()
        expect(page.locator("#category-error")).to_have_text("Choose the service you need.")
        expect(page.get_by_label("Subject")).to_have_value(f"Help by {how}")
        reset = page.get_by_role("radio", name="Reset my password")
        if how == "keyboard":
            page.get_by_role("radio", name="Account locked out").focus()
            page.keyboard.press("ArrowDown")  # arrows move between the radios, and choose
            expect(reset).to_be_focused()
            card = page.locator(f"label[for='{reset.get_attribute('id')}']")
            assert card.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"  # the focus shows on the card
        else:
            page.locator(".service-card").filter(has_text="Reset my password").click()
        expect(reset).to_be_checked()
        assert _fits(page), f"the ticket form scrolls sideways at {size['width']} px"
        _settled(page)
        assert_accessible(page)
        page.screenshot(path=str(shots_dir / f"raise-ticket-cards-{size['width']}.png"), full_page=True)
        page.get_by_role("button", name="Raise ticket").click()
        expect(page.get_by_text("Ticket raised: Reset my password.")).to_be_visible()
