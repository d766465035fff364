"""Browser fixtures: the portal on a real socket, and Debian's Chromium driven by Playwright."""
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    """Everything under tests/browser is a browser test."""
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def portal_server(app):
    """Serve the test app on 127.0.0.1 with a random port, threaded like a real server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium; the Makefile installs it with apt when missing."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make chromium` (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (own cookies) and page per test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    # axe-core is added by the browser before each document's own scripts, so the pages keep their strict
    # CSP (a script tag added later would be blocked, and so would axe's own inline styles).
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def shots_dir():
    """Where journeys save screenshots: FRONTDESK_SCREENSHOTS (make screenshots) or test-artifacts/."""
    path = Path(os.environ.get("FRONTDESK_SCREENSHOTS", "test-artifacts/screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def assert_accessible(page):
    """Run axe-core in the page and fail on serious or critical violations."""
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    assert result["passes"], "axe-core did not run any rule"
    bad = [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "accessibility violations:\n" + "\n".join(bad)


def admin_signs_in(page, server, admin):
    """Through the admin sign-in form with the test admin's password, as a person does it; ends on the dashboard."""
    from tests.conftest import ADMIN_PASSWORD

    page.goto(server + "/admin/login")
    page.get_by_label("Email address").fill(admin.email)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(server + "/admin/")


def microsoft_sign_in(page, server, username, password="Start-Password-1"):
    """From the portal's sign-in page through the emulator's Microsoft page, as a person does it."""
    page.goto(server + "/login")
    page.get_by_role("button", name="Sign in with Microsoft").click()
    page.get_by_label("Email, phone, or Skype").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
