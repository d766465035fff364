"""Journey: an admin limits sync to one group on the mapping page (found with the picker), previews it, saves it and
finds exactly the group's people, nested members included, among the requesters."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import admin_signs_in, assert_accessible
from tests.browser.test_every_page import AXE_RUN
from tests.conftest import install_integration


def _person(emulator, token: str, letter: str) -> dict:
    name = f"p{uuid.uuid4().hex[:10]}"
    domain = emulator.info["tenant_domain"]
    return emulator.create_user(userPrincipalName=f"{name}@{domain}", displayName=f"{token} {letter}",
                                mail=f"{name}@{domain}", password="Start-Password-1")["props"]


def _look(page, shots_dir, name: str) -> None:
    """Accessible, no sideways scrolling, and a screenshot on a desktop and at 390 px."""
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    assert_accessible(page)
    assert page.evaluate(AXE_RUN) == []  # as tests/browser/test_every_page.py asks: no violation of any impact
    page.screenshot(path=str(shots_dir / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots_dir / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})


@pytest.mark.settings(SYNC_KICK="thread")
def test_pick_a_group_preview_save_and_see_its_people(portal_server, page, admin, app, emulator, shots_dir):
    """Search finds the group with its member count; ticking it chooses group scope; the preview names the scope and
    counts its two people; Save syncs them, and nobody outside the group arrives."""
    token = f"Pilot{uuid.uuid4().hex[:6]}"
    direct, nested, outsider = (_person(emulator, token, letter) for letter in ("Direct", "Nested", "Outsider"))
    child = emulator.create_group(f"{token} nested team", members=[nested["id"]])["props"]["id"]
    emulator.create_group(f"{token} pilot group", members=[direct["id"], child])
    integration = install_integration(app, emulator)
    admin_signs_in(page, portal_server, admin)
    page.goto(f"{portal_server}/admin/integrations/{integration.id}/mapping")

    expect(page.get_by_label("Everyone in the tenant")).to_be_checked()
    page.get_by_label("Members of these groups").check()
    page.get_by_role("button", name="Save mapping and sync").click()  # no group chosen yet: refused, in words
    expect(page.locator("#scope-error")).to_contain_text("Choose at least one group")
    _look(page, shots_dir, "mapping-group-scope-refused")
    page.get_by_label("Find groups by the start of a word in their name").fill(token)
    match = page.locator("#group-matches .scope-group", has_text=f"{token} pilot group")
    expect(match).to_contain_text("2 people, nested included")
    expect(page.locator("#group-matches .scope-group")).to_have_count(2)  # the nested team matches too
    match.get_by_role("checkbox").check()
    expect(page.locator("#chosen-groups")).to_contain_text(f"{token} pilot group")
    expect(page.get_by_label("Members of these groups")).to_be_checked()
    page.get_by_label("Find groups by the start of a word in their name").fill("nothing-like-this")
    expect(page.locator("#group-results")).to_contain_text("No group's name has a word starting with")
    expect(page.locator("#chosen-groups")).to_contain_text(f"{token} pilot group")  # a new search keeps the choice
    _look(page, shots_dir, "mapping-group-scope")

    page.get_by_role("button", name="Preview changes").click()
    expect(page.locator("#progress .progress-bar")).to_have_text("Done", timeout=30_000)
    expect(page.locator("#preview-scope")).to_contain_text(f"members of {token} pilot group")
    expect(page.locator('[data-count="created"]')).to_have_text("2")
    _look(page, shots_dir, "dry-run-group-scope")

    page.get_by_role("button", name="Save this mapping and sync").click()
    expect(page.get_by_role("heading", name="Full sync")).to_be_visible()
    expect(page.locator("#progress .progress-bar")).to_have_text("Done", timeout=30_000)
    expect(page.locator("#progress")).to_contain_text("succeeded")
    expect(page.locator('[data-count="created"]')).to_have_text("2")

    page.get_by_role("link", name="See requesters").click()
    page.get_by_label("Search").fill(token)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name=f"{token} Direct")).to_be_visible()
    expect(page.get_by_role("link", name=f"{token} Nested")).to_be_visible()
    expect(page.get_by_role("link", name=f"{token} Outsider")).to_have_count(0)
    _look(page, shots_dir, "requesters-group-scope")
    assert outsider["id"]
