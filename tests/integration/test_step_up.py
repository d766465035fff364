"""Security changes need the admin's password within the last 10 minutes; the step-up is audited."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import policy
from portal.admin.step_up import STEP_UP_ENDPOINTS
from portal.devices import registry
from portal.models import AuditEvent
from tests.conftest import ADMIN_PASSWORD, csrf_from

STALE = registry.FRESH_SIGN_IN + timedelta(minutes=1)


@pytest.fixture
def stale_admin(client, login_as, monkeypatch):
    """An admin who signed in 11 minutes ago (the clock moves; idle and absolute limits are far longer)."""
    login_as("admin")
    later = registry.now() + STALE
    monkeypatch.setattr(registry, "now", lambda: later)
    return client


def test_every_security_change_asks_for_the_password_again(app, stale_admin, integration):
    """Each listed page, opened or posted with a stale sign-in, goes to the password page and changes nothing."""
    before = policy.all_values()["lockout_threshold"]
    token = csrf_from(stale_admin.get("/admin/confirm-password").get_data(as_text=True))
    urls = {rule.endpoint: rule.build({a: integration.id for a in rule.arguments}, append_unknown=False)[1]
            for rule in app.url_map.iter_rules() if rule.endpoint in STEP_UP_ENDPOINTS}
    assert set(urls) == STEP_UP_ENDPOINTS
    for endpoint, url in urls.items():
        posted = stale_admin.post(url, data={"csrf_token": token, "lockout_threshold": "50"})
        assert posted.status_code == 302 and "/admin/confirm-password" in posted.headers["Location"], endpoint
    assert policy.all_values()["lockout_threshold"] == before
    opened = stale_admin.get("/admin/settings")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("next=/admin/settings")


def test_the_right_password_returns_to_the_page_and_is_audited(db, stale_admin):
    """After the password, the admin lands back on Settings and can save; admin.step_up is in the audit log."""
    page = stale_admin.get("/admin/confirm-password?next=/admin/settings").get_data(as_text=True)
    assert "Confirm it is you" in page
    back = stale_admin.post("/admin/confirm-password?next=/admin/settings",
                            data={"csrf_token": csrf_from(page), "password": ADMIN_PASSWORD})
    assert back.status_code == 302 and back.headers["Location"].endswith("/admin/settings")
    assert stale_admin.get("/admin/settings").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "admin.step_up")) == 1


def test_a_wrong_password_counts_as_a_failed_sign_in(db, stale_admin):
    """A wrong password is refused, audited as a failed sign-in, and the page stays closed; next= stays on site."""
    page = stale_admin.get("/admin/confirm-password").get_data(as_text=True)
    refused = stale_admin.post("/admin/confirm-password?next=https://evil.example/",
                               data={"csrf_token": csrf_from(page), "password": "not my password"})
    assert refused.status_code == 401 and 'id="step-up-error"' in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "admin.sign_in_failed")) == 1
    assert stale_admin.get("/admin/settings").status_code == 302
    ok = stale_admin.post("/admin/confirm-password?next=https://evil.example/",
                          data={"csrf_token": csrf_from(page), "password": ADMIN_PASSWORD})
    assert ok.headers["Location"].endswith("/admin/")


def test_a_fresh_sign_in_is_not_asked_again(client, login_as):
    """Within 10 minutes of signing in, Settings opens directly."""
    login_as("admin")
    assert client.get("/admin/settings").status_code == 200
