"""Organisation name and portal address on the Settings page, and the mail template's Preview and Send test."""
import sqlalchemy as sa

import config
from portal import policy, ticket_notices
from portal.mail import DEFAULT_TEMPLATES
from portal.models import AuditEvent, Setting
from tests.conftest import csrf_from

TEMPLATE = DEFAULT_TEMPLATES["password_reset"]


def _settings_form(client, **changes):
    page = client.get("/admin/settings").get_data(as_text=True)
    return dict(config.Config.POLICY_DEFAULTS, csrf_token=csrf_from(page), **changes)


def test_organisation_and_portal_address_are_saved_audited_and_used(client, login_as, db, app):
    """Both values are policy keys: saved from the Settings page, audited, and used by every email's links."""
    login_as("admin")
    response = client.post("/admin/settings", data=_settings_form(
        client, organisation_name=" Contoso ", portal_url="https://help.contoso.test/"))
    assert response.status_code == 302
    assert policy.mail_identity() == ("Contoso", "https://help.contoso.test/")
    changed = set(db.session.scalars(sa.select(AuditEvent.target_id).where(AuditEvent.action == "setting.changed")))
    assert changed == {"organisation_name", "portal_url"}
    assert ticket_notices.link("/tickets/7") == "https://help.contoso.test/tickets/7"


def test_empty_values_fall_back_to_the_environment(app):
    """Left empty, emails use ORGANISATION_NAME and PORTAL_URL."""
    app.config.update(ORGANISATION_NAME="Fabrikam", PORTAL_URL="http://127.0.0.1:5056/")
    assert policy.mail_identity() == ("Fabrikam", "http://127.0.0.1:5056/")


def test_bad_portal_addresses_and_names_are_refused(client, login_as, db):
    """Only a full http(s) address without credentials, query or fragment; a name on one line."""
    login_as("admin")
    for bad in ("javascript:alert(1)", "help.contoso.test", "https://user:pw@help.contoso.test/",
                "https://help.contoso.test/?x=1", "https://help contoso/", "https://help.contoso.test:0/"):
        response = client.post("/admin/settings", data=_settings_form(client, portal_url=bad))
        assert response.status_code == 200 and "Enter the full address people open" in response.get_data(as_text=True), bad
    response = client.post("/admin/settings", data=_settings_form(client, organisation_name="Contoso\rBcc: x@evil.test"))
    assert "Use one line of letters" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Setting)) == 0


def test_preview_renders_sample_values_and_sends_nothing(client, login_as, mailbox, db):
    """Preview fills the edited template with this portal's values and the sample password; nothing saved or sent."""
    login_as("admin")
    policy.set_values({"organisation_name": "Contoso", "portal_url": "https://help.contoso.test/"},
                      actor=policy.signals.SYSTEM)
    page = client.get("/admin/settings/mail").get_data(as_text=True)
    edited = dict(TEMPLATE, html=TEMPLATE["html"] + '<p onclick="x()">Edited <script>alert(1)</script></p>')
    response = client.post("/admin/settings/mail/preview", data=dict(edited, csrf_token=csrf_from(page)))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Your temporary password for Contoso" in body
    assert "<code>Xy7-sample</code>" in body and '<a href="https://help.contoso.test/"' in body
    assert "<p>Edited </p>" in body and "alert(1)</script>" not in body.split('id="preview-title"')[1]
    assert mailbox == [] and db.session.get(Setting, "mail_template:password_reset") is None


def test_send_test_goes_to_the_signed_in_admin_and_is_audited(client, login_as, mailbox, db, admin):
    """Send test mails the admin's own address through the normal mail path, with the sample password."""
    login_as("admin")
    page = client.get("/admin/settings/mail").get_data(as_text=True)
    response = client.post("/admin/settings/mail/test", data=dict(TEMPLATE, csrf_token=csrf_from(page),
                                                                 to="someone@evil.test"))
    assert response.status_code == 200 and f"Test email sent to {admin.email}" in response.get_data(as_text=True)
    assert len(mailbox) == 1 and mailbox[0]["To"] == admin.email
    assert mailbox[0]["Subject"] == "[Test] Your temporary password for your organisation"
    text = next(p for p in mailbox[0].walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Xy7-sample" in text
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "mail.test_sent"))
    assert event.outcome == "success" and event.actor_id == str(admin.id) and event.detail == {"to": admin.email}


def test_a_refused_template_is_not_sent_and_the_refusal_is_audited(client, login_as, mailbox, db):
    """A template without the password is refused before SMTP; the attempt is still in the audit log."""
    login_as("admin")
    page = client.get("/admin/settings/mail").get_data(as_text=True)
    broken = dict(TEMPLATE, text="No password here.")
    response = client.post("/admin/settings/mail/test", data=dict(broken, csrf_token=csrf_from(page)))
    assert response.status_code == 422 and "does not show the temporary password" in response.get_data(as_text=True)
    assert mailbox == []
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "mail.test_sent"))
    assert event.outcome == "failure"
