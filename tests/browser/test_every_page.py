"""Every page for each role (visitor, requester, admin), on a desktop and at 390 px, light and dark: no error status,
no console error (strict CSP refusals included), no sideways scrolling, no axe violation of any impact. The page list
is checked against the app's routes, so a new page cannot be left out. Every failure of a run is listed at once."""
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import demo_mail, jobs, signals, tickets
from portal.directory.runs import start_run
from portal.models import Approval, AuditEvent, Requester, SyncRun
from portal.workflows import admin_service
from tests.browser.conftest import AXE, admin_signs_in, microsoft_sign_in
from tests.integration.test_demo import _mime

PAGES = {
    "visitor": ["/", "/login", "/admin/login", "/help", "/signed-out"],
    "requester": ["/home", "/devices", "/profile", "/tickets/new", "/tickets/{ticket}", "/approvals/{approval}"],
    "admin": ["/admin/", "/admin/marketplace", "/admin/marketplace/entra/install", "/admin/integrations/{i}",
              "/admin/integrations/{i}/mapping", "/admin/integrations/{i}/sync", "/admin/sync/runs/{run}",
              "/admin/integrations/{i}/conflicts", "/admin/integrations/{i}/secret", "/admin/sign-ins",
              "/admin/integrations/{i}/roles", "/admin/integrations/{i}/roles?q=IT",
              "/admin/requesters", "/admin/requesters?status=locked", "/admin/requesters/{requester}",
              "/admin/tickets", "/admin/tickets/{ticket}", "/admin/approvals", "/admin/approvals/{approval}",
              "/admin/workflows", "/admin/workflows/new", "/admin/workflows/{workflow}", "/admin/catalogue",
              "/admin/sessions", "/admin/audit", "/admin/audit/{event}", "/admin/settings", "/admin/settings/mail",
              "/admin/confirm-password", "/admin/demo/mail"],
}
# GET routes that are not pages a person reads: files, fragments htmx swaps in, redirects and probes.
NOT_PAGES = {"static", "requester.healthz", "auth.callback", "admin.audit_export", "admin.sign_ins_export",
             "admin.sync_run_changes", "admin.sync_run_progress", "admin.ticket_live",
             "requester.ticket_progress_fragment", "admin.group_picker"}
VIEWS = [("desktop", {"width": 1280, "height": 800}, "light"), ("desktop", {"width": 1280, "height": 800}, "dark"),
         ("390px", {"width": 390, "height": 844}, "light"), ("390px", {"width": 390, "height": 844}, "dark")]
# Full-page screenshots of a few pages in every view, to look at (never into docs/img: `make screenshots` sets that).
SHOTS = {"/admin/": "dashboard", "/home": "requester-home", "/admin/integrations/{i}/mapping": "mapping",
         "/admin/sync/runs/{run}": "sync-run"}
SHOTS_DIR = Path("test-artifacts/screenshots/every-page")
AXE_RUN = "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"


def test_the_page_list_covers_every_route(app):
    """Each GET route of the app is visited by some role below, or is named as not being a page."""
    demo_mail.enable_demo_mailbox(app)
    adapter = app.url_map.bind("localhost")
    visited = {adapter.match(path.split("?")[0].format_map(_AnyId()))[0] for paths in PAGES.values() for path in paths}
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert routes - visited - NOT_PAGES == set(), "pages nobody visits"
    assert NOT_PAGES - routes == set(), "NOT_PAGES names routes that are gone"


class _AnyId(dict):
    def __missing__(self, key):
        return 1


@pytest.fixture
def site(app, db, synced, catalogue, new_user, emulator, admin):
    """Something on every page: a synced integration, a workflow, a requester with a ticket and an approval that waits
    for them (as a manager), two people sharing a mail address (a conflict), audit events, a sync run and an email in
    the demo's mailbox."""
    mailbox = demo_mail.enable_demo_mailbox(app)  # the demo's Mail page, as `flask demo run` registers it
    mailbox.appendleft(demo_mail.read_message(_mime("Your ticket is open.", "<p>Your ticket is <b>open</b>.</p>"),
                                              ["zoe@example.com"]))
    workflow = admin_service.save(None, "Unlock", [catalogue["Account locked out"].id], True,
                                  [{"integration_id": synced.id, "action": "unlock"}], actor=signals.SYSTEM)
    admin_service.save(None, "Leavers", [catalogue["Leaver: disable account"].id], True,
                       [{"integration_id": synced.id, "action": "disable", "target": "ticket_subject"}],
                       actor=signals.SYSTEM)  # the leaver service itself asks the manager (or IT) first
    user = new_user()
    leaver = new_user(managerId=user["id"])
    colleague = new_user()
    shared = f"shared.{uuid.uuid4().hex[:8]}@{emulator.info['tenant_domain']}"
    sharing = [new_user(mail=shared), new_user(mail=shared)]
    start_run(synced, "delta", "manual")
    jobs.run_queued_syncs(app)
    people = {p["id"]: db.session.scalar(sa.select(Requester).where(Requester.entra_object_id == p["id"]))
              for p in (user, colleague)}
    ticket = tickets.create(people[user["id"]], catalogue["Account locked out"].id, "Locked out", "Please help")
    leaving = tickets.create(people[colleague["id"]], catalogue["Leaver: disable account"].id, "Leo has left",
                             "Last day was Friday", about_email=leaver["mail"])
    jobs.run_actions(app)
    ids = {"i": synced.id, "requester": people[user["id"]].id, "ticket": ticket.id, "workflow": workflow.id,
           "event": db.session.scalar(sa.select(sa.func.max(AuditEvent.id))),
           "run": db.session.scalar(sa.select(sa.func.max(SyncRun.id))),
           "approval": db.session.scalar(sa.select(Approval.id).where(Approval.ticket_id == leaving.id))}
    assert None not in ids.values(), ids
    yield {"ids": ids, "user": user}
    emulator.update_user(sharing[1]["id"], mail=f"un{shared}")  # the emulator outlives this test: no conflict left


def sign_in(role: str, page, server: str, site: dict, admin) -> None:
    """Sign in as a person of that role does it (a visitor just opens the portal)."""
    if role == "visitor":
        page.goto(server + "/")
    elif role == "requester":
        microsoft_sign_in(page, server, site["user"]["userPrincipalName"])
        page.wait_for_url(server + "/home")
    elif role == "admin":
        admin_signs_in(page, server, admin)


def problems_on(page, url: str, theme: str, errors: list[str]) -> list[str]:
    """Open one page and say everything wrong with it (console errors since it started loading included)."""
    errors.clear()
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    found = [f"console: {e}" for e in errors]
    if response is None or response.status >= 400:
        found.append(f"HTTP {response.status if response else 'no response'}")
    if page.url != url:
        found.append(f"sent on to {page.url}")
    if page.evaluate("document.documentElement.getAttribute('data-bs-theme')") != theme:
        found.append(f"not in the {theme} theme")
    width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width > window:
        found.append(f"{width} px wide in a {window} px window")
    for v in page.evaluate(AXE_RUN):
        found.append(f"axe {v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}")
    return found


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_for_every_role(role, portal_server, browser, site, admin):
    """One signed-in browser per role opens each of its pages at both widths in both themes."""
    context = browser.new_context(viewport=VIEWS[0][1])
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.text} @ {m.location.get('url')}") if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    failures = []
    if role == "admin":  # a requester's sign-in, device and session for the admin's lists
        other = browser.new_context()
        sign_in("requester", other.new_page(), portal_server, site, admin)
        other.close()
    try:
        sign_in(role, page, portal_server, site, admin)
        for view, size, theme in VIEWS:
            page.set_viewport_size(size)
            page.evaluate(f"localStorage.setItem('frontdesk-theme', '{theme}')")
            for path in PAGES[role]:
                url = portal_server + path.format(**site["ids"])
                failures += [f"{view}/{theme} {path}: {p}" for p in problems_on(page, url, theme, errors)]
                if path in SHOTS:
                    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(SHOTS_DIR / f"{SHOTS[path]}-{view}-{theme}.png"), full_page=True)
    finally:
        context.close()
    assert not failures, f"{len(failures)} problems for the {role}:\n" + "\n".join(failures)
