"""Marketplace install and Verify through the admin pages, against the emulator over HTTPS."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.entra.permissions import FEATURES
from portal.models import AuditEvent, Integration
from tests.conftest import csrf_from, point_at


@pytest.fixture
def admin_client(client, login_as, app, emulator):
    """A signed-in admin, with the app pointed at the emulator."""
    point_at(app, emulator)
    login_as("admin")
    return client


def install_form(client, emulator, **overrides):
    creds = emulator.app(overrides.pop("app_name", "Frontdesk"))
    page = client.get("/admin/marketplace/entra/install").get_data(as_text=True)
    data = {"name": "Contoso staff", "tenant_id": emulator.tenant_id, "client_id": creds["client_id"],
            "client_secret": creds["client_secret"], "secret_expires_on": (date.today() + timedelta(days=200)).isoformat(),
            "cloud": "global", "csrf_token": csrf_from(page)}
    data.update(overrides)
    return client.post("/admin/marketplace/entra/install", data=data)


def test_marketplace_shows_not_installed_then_verified(admin_client, emulator, db):
    """The Entra ID card says 'Not installed', then 'Verified' with the installation listed."""
    assert "Not installed" in admin_client.get("/admin/marketplace").get_data(as_text=True)
    response = install_form(admin_client, emulator)
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Verified and installed" in page and page.count("bi-check-circle-fill") == len(FEATURES)
    assert "Check for Entra admin roles before acting" in page
    market = admin_client.get("/admin/marketplace").get_data(as_text=True)
    assert "Verified" in market and "Contoso staff" in market


def test_secret_is_encrypted_and_never_shown_again(admin_client, emulator, db):
    """The secret is stored encrypted; pages show only its last four characters."""
    secret = emulator.app()["client_secret"]
    install_form(admin_client, emulator)
    integration = db.session.scalar(sa.select(Integration))
    assert secret.encode() not in integration.secret_encrypted
    page = admin_client.get(f"/admin/integrations/{integration.id}").get_data(as_text=True)
    assert secret not in page and secret[-4:] in page
    for event in db.session.scalars(sa.select(AuditEvent)):
        assert secret not in str(event.detail) and secret not in (event.reason or "")


@pytest.mark.parametrize("field, value, message", [
    ("tenant_id", "not a tenant", "Directory (tenant) ID as a GUID"),
    ("client_id", "1234", "Application (client) ID: a GUID"),
    ("client_secret", "has spaces in it", "one line, no spaces"),
    ("secret_expires_on", "2001-01-01", "already expired"),
    ("name", "x" * 130, "120 characters"),
])
def test_each_field_is_validated_with_a_message(admin_client, emulator, db, field, value, message):
    """Bad input gets a 422 form with a message that says what is wrong, and nothing is saved."""
    response = install_form(admin_client, emulator, **{field: value})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Integration)) == 0


@pytest.mark.parametrize("overrides, expected", [
    ({"tenant_id": "00000000-0000-0000-0000-00000000dead"}, "Microsoft does not know this tenant"),
    ({"client_id": "11111111-2222-3333-4444-555555555555"}, "No app with this Client ID"),
    ({"client_secret": "wrong-secret-value"}, "The client secret is wrong"),
])
def test_credential_failures_save_nothing(admin_client, emulator, db, overrides, expected):
    """Wrong tenant, client id or secret: a plain message with Microsoft's code, and no integration row."""
    response = install_form(admin_client, emulator, **overrides)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and expected in body and "For support" in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Integration)) == 0
    failing = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "integration.failing"))
    assert failing.outcome == "failure"


def test_expired_secret_message(admin_client, emulator, db):
    """An expired secret is named as such (AADSTS7000222)."""
    client_id = emulator.app("Frontdesk (read only)")["client_id"]
    emulator.update_app(client_id, secret_expires_in=-5)
    try:
        body = install_form(admin_client, emulator, app_name="Frontdesk (read only)").get_data(as_text=True)
    finally:
        emulator.update_app(client_id, secret_expires_in=None)
    assert "The client secret has expired" in body and "AADSTS7000222" in body


def test_no_admin_consent_installs_as_failing_with_checklist(admin_client, emulator, db):
    """Valid credentials without consent: saved as failing, every feature blocked with how to grant it."""
    response = install_form(admin_client, emulator, app_name="Frontdesk (no admin consent)")
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "admin consent is missing" in page and page.count("bi-x-circle-fill") == len(FEATURES)
    assert "Grant admin consent" in page
    assert db.session.scalar(sa.select(Integration.status)) == "failing"


def test_read_only_app_checklist(admin_client, emulator, db):
    """User.Read.All only: sync enabled; the workflow features, the role check, group-scoped sync and sign-in logs
    blocked, each named."""
    response = install_form(admin_client, emulator, app_name="Frontdesk (read only)")
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert page.count("bi-check-circle-fill") == 1 and page.count("bi-x-circle-fill") == len(FEATURES) - 1
    assert "Force Password Reset on Next Login is blocked" in page
    assert "Group-scoped directory sync (sync only members of chosen groups) is blocked" in page


def test_network_and_tls_errors(admin_client, app, emulator, db, tmp_path):
    """An unreachable host and an untrusted certificate each get their own message."""
    app.config["ENTRA_AUTHORITY_HOST"] = "https://127.0.0.1:1"
    assert "could not reach Microsoft" in install_form(admin_client, emulator).get_data(as_text=True)
    point_at(app, emulator)
    other_ca = tmp_path / "other.pem"
    from emulator.pki import create_pki

    other_ca.write_bytes(create_pki(tmp_path / "pki")["ca"].read_bytes())
    app.config["ENTRA_CA_BUNDLE"] = str(other_ca)
    assert "not trusted" in install_form(admin_client, emulator).get_data(as_text=True)


def test_throttled_token_endpoint(admin_client, emulator, db):
    """Throttling at Microsoft's token endpoint is reported as throttling."""
    from portal.entra import credentials

    credentials.forget_all_clients()  # a cached token would not reach the token endpoint at all
    emulator.set_faults(error_rates={"429": 1.0}, scope="token", retry_after=0)
    try:
        body = install_form(admin_client, emulator).get_data(as_text=True)
    finally:
        emulator.clear_faults()
    assert "Microsoft is throttling sign-in requests" in body


def test_reverify_and_secret_replacement(admin_client, emulator, db):
    """Verify again after consent is revoked marks failing; a wrong new secret keeps the old one."""
    install_form(admin_client, emulator, app_name="Frontdesk (read only)")
    integration = db.session.scalar(sa.select(Integration))
    client_id = emulator.app("Frontdesk (read only)")["client_id"]
    page = admin_client.get(f"/admin/integrations/{integration.id}").get_data(as_text=True)
    emulator.update_app(client_id, revoke=["User.Read.All"])
    try:
        admin_client.post(f"/admin/integrations/{integration.id}/verify", data={"csrf_token": csrf_from(page)})
        db.session.expire_all()
        assert db.session.get(Integration, integration.id).status == "failing"
    finally:
        emulator.update_app(client_id, grant=["User.Read.All"])
    old = db.session.get(Integration, integration.id).secret_encrypted
    form = admin_client.get(f"/admin/integrations/{integration.id}/secret").get_data(as_text=True)
    bad = admin_client.post(f"/admin/integrations/{integration.id}/secret", data={
        "client_secret": "wrong-new-secret", "secret_expires_on": (date.today() + timedelta(days=90)).isoformat(),
        "csrf_token": csrf_from(form)})
    assert bad.status_code == 422 and "The client secret is wrong" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Integration, integration.id).secret_encrypted == old
    good = admin_client.post(f"/admin/integrations/{integration.id}/secret", data={
        "client_secret": emulator.app("Frontdesk (read only)")["client_secret"],
        "secret_expires_on": (date.today() + timedelta(days=90)).isoformat(), "csrf_token": csrf_from(form)})
    assert good.status_code == 302
    db.session.expire_all()
    refreshed = db.session.get(Integration, integration.id)
    assert refreshed.status == "verified" and refreshed.secret_encrypted != old
    actions = [e.action for e in db.session.scalars(sa.select(AuditEvent))]
    assert "integration.secret_replaced" in actions and "integration.failing" in actions


def test_secret_expiry_warnings_and_daily_audit(admin_client, emulator, db, app):
    """7 days before expiry the dashboard warns; the daily job audits it once a day."""
    from portal import jobs

    install_form(admin_client, emulator, secret_expires_on=(date.today() + timedelta(days=6)).isoformat())
    assert "expires in 6 days" in admin_client.get("/admin/").get_data(as_text=True)
    assert jobs.check_secret_expiry(app) == 1
    assert jobs.check_secret_expiry(app) == 0
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "integration.secret_expiring"))
    assert event.detail["days_left"] == 6


def test_two_tenants_can_be_installed(app, admin_client, db, tmp_path):
    """Two different tenants (one emulator serving both) each get their own installation."""
    from emulator.server import start
    from tests import leakcheck

    running = start(users=5, tenants=2, https_port=0, state_dir=tmp_path)
    leakcheck.watch(running)  # the final sweep looks for these secrets too
    try:
        point_at(app, type("Info", (), {"info": running.info})())
        for name, tenant in zip(("Contoso staff", "Fabrikam staff"), running.info["tenants"], strict=True):
            creds = next(a for a in tenant["applications"] if a["display_name"] == "Frontdesk")
            page = admin_client.get("/admin/marketplace/entra/install").get_data(as_text=True)
            done = admin_client.post("/admin/marketplace/entra/install", data={
                "name": name, "tenant_id": tenant["tenant_id"], "client_id": creds["client_id"],
                "client_secret": creds["client_secret"], "cloud": "global", "csrf_token": csrf_from(page),
                "secret_expires_on": (date.today() + timedelta(days=200)).isoformat()})
            assert done.status_code == 302, done.get_data(as_text=True)[:300]
    finally:
        running.stop()
    names = db.session.scalars(sa.select(Integration.name).order_by(Integration.name)).all()
    assert names == ["Contoso staff", "Fabrikam staff"]


def test_a_tenant_is_installed_once(admin_client, emulator, db, app, runner):
    """A second install of the same tenant, with another app registration or by its domain, is refused naming the
    existing installation (form and CLI), audited, and nothing is saved."""
    assert install_form(admin_client, emulator).status_code == 302
    second = install_form(admin_client, emulator, app_name="Frontdesk (read only)", name="Contoso again")
    body = second.get_data(as_text=True)
    assert second.status_code == 422 and "already installed as &#39;Contoso staff&#39;" in body
    assert 'id="existing-install"' in body
    by_domain = install_form(admin_client, emulator, tenant_id=emulator.info["tenant_domain"], name="By domain")
    assert by_domain.status_code == 422
    creds = emulator.app("Frontdesk (read only)")
    result = runner.invoke(args=["integration", "add", "--name", "CLI copy", "--tenant", emulator.tenant_id,
                                 "--client-id", creds["client_id"], "--secret-expires", "2030-01-01"],
                           input=creds["client_secret"] + "\n")
    assert result.exit_code != 0 and "already installed as 'Contoso staff'" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Integration)) == 1
    refusals = db.session.scalars(sa.select(AuditEvent.reason).where(AuditEvent.action == "integration.failing")).all()
    assert sum("already installed" in r for r in refusals) == 3


def test_a_validation_error_keeps_the_secret_without_showing_it(admin_client, emulator, db):
    """The form comes back without the secret in its HTML (only its last four characters), and the next submit
    with the other field fixed installs with the kept secret, the secret field left empty."""
    secret = emulator.app()["client_secret"]
    first = install_form(admin_client, emulator, tenant_id="not a tenant")
    page = first.get_data(as_text=True)
    assert first.status_code == 422 and "Directory (tenant) ID as a GUID" in page
    assert secret not in page and 'id="secret-kept"' in page and f"ending {secret[-4:]}" in page
    with admin_client.session_transaction() as sess:
        assert secret not in str(dict(sess))  # encrypted in the server-side session too
    again = {"name": "Contoso staff", "tenant_id": emulator.tenant_id, "client_id": emulator.app()["client_id"],
             "client_secret": "", "secret_expires_on": (date.today() + timedelta(days=200)).isoformat(),
             "cloud": "global", "csrf_token": csrf_from(page)}
    done = admin_client.post("/admin/marketplace/entra/install", data=again)
    assert done.status_code == 302, done.get_data(as_text=True)[:2000]
    assert db.session.scalar(sa.select(Integration)).status == "verified"
    with admin_client.session_transaction() as sess:
        assert "install_secret" not in sess  # used up


def test_a_wrong_secret_or_a_fresh_visit_is_not_kept(admin_client, emulator, db):
    """Microsoft refused the secret: nothing is kept; a kept secret is forgotten when the form is opened again."""
    wrong = install_form(admin_client, emulator, client_secret="wrong-secret-value").get_data(as_text=True)
    assert "The client secret is wrong" in wrong and 'id="secret-kept"' not in wrong
    kept = install_form(admin_client, emulator, name="").get_data(as_text=True)
    assert 'id="secret-kept"' in kept
    assert 'id="secret-kept"' not in admin_client.get("/admin/marketplace/entra/install").get_data(as_text=True)
    empty = install_form(admin_client, emulator, client_secret="")  # the GET before it forgot the kept one
    body = empty.get_data(as_text=True)
    assert empty.status_code == 422 and "This field is required." in body and 'id="secret-kept"' not in body
