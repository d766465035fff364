"""Every page for each role (visitor, requester, admin), on a desktop and at 390 px, light and dark: no console error
(strict CSP refusals included), no sideways scrolling, no serious axe violation. Every failure of a run is listed."""
import sqlalchemy as sa

from portal import demo_mail, jobs, signals, tickets
from portal.directory.runs import start_run
from portal.models import AuditEvent, Requester
from portal.workflows import admin_service
from tests.browser.conftest import AXE, assert_accessible, microsoft_sign_in
from tests.browser.test_accessibility_and_lockout import ADMIN_PAGES, REQUESTER_PAGES
from tests.conftest import ADMIN_PASSWORD
from tests.integration.test_demo import _mime

VISITOR_PAGES = ["/", "/login", "/admin/login", "/help", "/signed-out"]
MORE_ADMIN_PAGES = ["/admin/approvals", "/admin/sign-ins", "/admin/integrations/{i}/conflicts", "/admin/demo/mail"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
THEMES = ("light", "dark")


def problems_on(page, url: str, errors: list[str]) -> list[str]:
    """Open one page and say everything wrong with it (console errors since it started loading included)."""
    errors.clear()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    found = [f"console: {e}" for e in errors]
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        found.append(f"{width[0]} px wide in a {width[1]} px window")
    try:
        assert_accessible(page)
    except AssertionError as exc:
        found.append(str(exc))
    return found


def walk(browser, server: str, paths: list[str], sign_in) -> list[str]:
    """Every path in every viewport and theme, each in a fresh context signed in by `sign_in(page)`."""
    failures = []
    for view, size in VIEWPORTS.items():
        for theme in THEMES:
            context = browser.new_context(viewport=size)
            context.add_init_script(path=str(AXE))
            context.add_init_script(f"try {{ localStorage.setItem('frontdesk-theme', '{theme}'); }} catch (e) {{}}")
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            try:
                sign_in(page)
                for path in paths:
                    failures += [f"{view}/{theme} {path}: {p}" for p in problems_on(page, server + path, errors)]
            finally:
                context.close()
    return failures


def test_every_page_for_every_role(portal_server, browser, app, db, admin, synced, catalogue, new_user):
    """Visitors, a signed-in requester and an admin each see every page of theirs without a console error, sideways
    scrolling or an axe violation, at both widths and in both themes."""
    mailbox = demo_mail.enable_demo_mailbox(app)  # the demo's Mail page, as `flask demo run` registers it
    mailbox.appendleft(demo_mail.read_message(_mime("Your ticket is open.", "<p>Your ticket is <b>open</b>.</p>"),
                                              ["zoe@example.com"]))
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

    def as_admin(page):
        page.goto(portal_server + "/admin/login")
        page.get_by_label("Email address").fill(admin.email)
        page.get_by_label("Password").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(portal_server + "/admin/")

    def as_requester(page):
        microsoft_sign_in(page, portal_server, user["userPrincipalName"])
        page.wait_for_url(portal_server + "/home")

    failures = walk(browser, portal_server, VISITOR_PAGES, lambda page: None)
    failures += walk(browser, portal_server, [p.format(**ids) for p in REQUESTER_PAGES], as_requester)
    failures += walk(browser, portal_server, [p.format(**ids) for p in ADMIN_PAGES + MORE_ADMIN_PAGES], as_admin)
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)
