"""`flask demo`: quiet logs, the banner (again with `demo info`), FRONTDESK_INSTANCE honoured, the demo's Mail page."""
import json
import logging
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests

from portal import demo, demo_banner, demo_mail
from portal.mail_html import clean_mail_html
from tests.conftest import csrf_from

ROOT = Path(__file__).resolve().parents[2]
INFO = {"tenant_id": "tid-1", "authority_host": "https://localhost:1", "graph_endpoint": "https://localhost:1",
        "ca_file": "/dev/null", "tenants": [{"display_name": "Contoso"}],
        "applications": [{"client_id": "cid-1", "client_secret": "secret-value-1"}],
        "demo_users": [{"userPrincipalName": "adele@contoso.test", "password": "Pw-1!", "displayName": "Adele Vance",
                        "accountEnabled": True, "directoryRoles": ["Global Administrator"]},
                       {"userPrincipalName": "alex@contoso.test", "password": "Pw-1!", "displayName": "Alex Wilber",
                        "accountEnabled": True, "directoryRoles": []}]}


def test_banner_gives_the_five_install_values_and_names_the_global_administrator(tmp_path):
    """Display name, tenant id, client id, secret value and a secret expiry about a year ahead; the directory admin
    is listed apart, with why reset and disable are refused for that account."""
    from datetime import date, timedelta

    text = demo_banner.banner("http://127.0.0.1:5055/", "admin@frontdesk.demo", "pw-123", INFO, tmp_path)
    expiry = (date.today() + timedelta(days=365)).isoformat()
    for label, value in (("Display name", "Contoso staff"), ("Directory (tenant) ID", "tid-1"),
                         ("Application (client) ID", "cid-1"), ("Client secret value", "secret-value-1"),
                         ("Secret expires on", expiry)):
        assert re.search(rf"{re.escape(label)}:\s+{re.escape(value)}\n", text), label
    assert "http://127.0.0.1:5055/admin/login   admin@frontdesk.demo / pw-123" in text
    assert "http://127.0.0.1:5055/admin/demo/mail" in text
    users, admins = text.split("Global Administrator in the emulated tenant")
    assert "alex@contoso.test" in users and "adele@contoso.test" not in users
    assert "adele@contoso.test" in admins and "reset and disable are refused for this account by design" in admins
    assert f"FRONTDESK_INSTANCE={tmp_path} flask demo info" in text


def test_demo_quiets_scheduler_and_request_logs(monkeypatch):
    """APScheduler's 'Running job' lines and werkzeug's request lines are below the demo's log level."""
    for name in ("apscheduler", "werkzeug", "mail.log"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    demo.quiet_demo_logs()
    assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
    assert not logging.getLogger("werkzeug").isEnabledFor(logging.INFO)
    assert not logging.getLogger("mail.log").isEnabledFor(logging.INFO)
    assert logging.getLogger("werkzeug").isEnabledFor(logging.WARNING)


def test_portal_url_follows_the_port(monkeypatch):
    """Links in the demo's emails use the address it serves on; an explicit PORTAL_URL wins."""
    monkeypatch.delenv("PORTAL_URL", raising=False)
    assert demo.demo_portal_url("127.0.0.1", 5055) == "http://127.0.0.1:5055/"
    assert demo.demo_portal_url("0.0.0.0", 5056) == "http://127.0.0.1:5056/"  # noqa: S104
    monkeypatch.setenv("PORTAL_URL", "https://help.example/")
    assert demo.demo_portal_url("127.0.0.1", 5055) == "https://help.example/"


def test_demo_fills_in_the_organisation_and_its_address(app, db, monkeypatch):
    """The demo sets PORTAL_URL and the Settings page's organisation name and portal address (audited)."""
    import sqlalchemy as sa

    from portal import policy
    from portal.models import AuditEvent

    monkeypatch.delenv("PORTAL_URL", raising=False)
    assert demo.configure_demo(app, "127.0.0.1", 5057, INFO) == "http://127.0.0.1:5057/"
    assert app.config["PORTAL_URL"] == "http://127.0.0.1:5057/"
    assert policy.mail_identity() == ("Contoso", "http://127.0.0.1:5057/")
    changed = set(db.session.scalars(sa.select(AuditEvent.target_id).where(AuditEvent.action == "setting.changed")))
    assert changed == {"organisation_name", "portal_url"}


def _mime(text: str, html: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Frontdesk <fd@localhost>", "zoe@example.com", "Grüße from IT"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return bytes(message)


def test_received_mail_is_decoded_not_raw_mime():
    """The terminal shows the subject and the decoded text part: no quoted-printable, no HTML part."""
    item = demo_mail.read_message(_mime("Temporary password: Xy7-säмple=\nBye " + "x" * 90, "<p>HTML part</p>"),
                                  ["zoe@example.com"])
    shown = demo_mail.terminal_text(item)
    assert "Subject: Grüße from IT" in shown and "Temporary password: Xy7-säмple=" in shown
    assert "=3D" not in shown and "Content-Transfer-Encoding" not in shown and "HTML part" not in shown
    assert item["html"].strip() == "<p>HTML part</p>"


def test_mail_html_keeps_text_and_safe_links_only():
    """Scripts, styles, event handlers, images and javascript: links go; text is escaped; http(s) links stay."""
    hostile = ('<p style="color:red" onclick="x()">Hi <b>there</b> &lt;script&gt;</p><script>alert(1)</script>'
               '<style>p{}</style><img src="https://evil.example/x.png"><a href="javascript:alert(1)">js</a>'
               '<a href=" https://portal.example/t/1 ">open</a><iframe src="https://evil.example"></iframe><ul><li>one')
    assert str(clean_mail_html(hostile)) == (
        '<p>Hi <b>there</b> &lt;script&gt;</p><a>js</a>'
        '<a href="https://portal.example/t/1" rel="noopener noreferrer">open</a><ul><li>one</li></ul>')


def test_mail_page_only_when_enabled_and_only_for_admins(app, client, login_as, requester):
    """Without the demo the route does not exist; with it, admins on this machine read each email rendered and
    escaped, newest first; requesters are refused and other machines see nothing."""
    assert "admin.demo_mail" not in app.view_functions
    mailbox = demo_mail.enable_demo_mailbox(app)
    for n in (1, 2):
        mailbox.appendleft(demo_mail.read_message(_mime(f"Text {n}", f"<p>Mail <b>{n}</b><script>x()</script></p>"),
                                                  ["zoe@example.com"]))
    assert client.get("/admin/demo/mail").headers["Location"].startswith("/admin/login")
    login_as(requester)
    assert client.get("/admin/demo/mail").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/home").get_data(as_text=True))})
    login_as("admin")
    body = client.get("/admin/demo/mail").get_data(as_text=True)
    assert body.index("Mail <b>2</b>") < body.index("Mail <b>1</b>") and "<script>x()" not in body
    assert "Grüße from IT" in body and "Text 2" in body
    assert client.get("/admin/demo/mail", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 404


def test_production_never_gets_the_mailbox(app):
    """The Mail page shows temporary passwords: production refuses to register it."""
    app.config["ENV_NAME"] = "production"
    with pytest.raises(RuntimeError, match="never production"):
        demo_mail.enable_demo_mailbox(app)
    assert "admin.demo_mail" not in app.view_functions


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_demo(instance: Path) -> tuple[subprocess.Popen, dict]:
    """`flask db upgrade` then `flask demo run` as the Makefile runs them, with this instance folder and free ports."""
    ports = {"portal": _free_port(), "mail": _free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "DATABASE_URL", "PORTAL_URL", "REDIS"))}
    env.update(FLASK_APP="wsgi", FRONTDESK_ENV="development", FRONTDESK_INSTANCE=str(instance), MAIL_PORT=str(ports["mail"]),
               EMULATOR_HTTPS_PORT="0", EMULATOR_HTTP_PORT="0")
    for name in ("SECRET_KEY", "ENCRYPTION_KEY"):
        env.pop(name, None)
    flask = str(Path(sys.executable).with_name("flask"))
    subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)  # noqa: S603
    log = (instance / "demo.log").open("w")
    proc = subprocess.Popen([flask, "demo", "run", "--port", str(ports["portal"]), "--users", "20"],  # noqa: S603
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while not (instance / "demo.json").exists():
        assert proc.poll() is None and time.monotonic() < deadline, (instance / "demo.log").read_text()
        time.sleep(0.2)
    return proc, dict(ports, env=env, url=f"http://127.0.0.1:{ports['portal']}")


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def two_demos(tmp_path_factory):
    """Two demos from this one checkout, each with its own FRONTDESK_INSTANCE and ports."""
    started = []
    try:
        for name in ("one", "two"):
            instance = tmp_path_factory.mktemp(f"demo-{name}")
            started.append((instance, *_start_demo(instance)))
        yield started
    finally:
        for _, proc, _ in started:
            _stop(proc)


def test_two_demos_keep_to_their_own_instance_folders(two_demos):
    """Emulator state, its info file, the admin's password and the database live under each FRONTDESK_INSTANCE;
    both demos serve at once, each on its own emulator."""
    infos = []
    for instance, proc, ports in two_demos:
        assert proc.poll() is None
        for name in ("emulator.json", "demo-admin-password.txt", "frontdesk.db", "emulator"):
            assert (instance / name).exists(), name
        infos.append(json.loads((instance / "emulator.json").read_text()))
        assert requests.get(ports["url"] + "/healthz", timeout=10).text.strip() == "ok"
    assert infos[0]["authority_host"] != infos[1]["authority_host"]
    assert (two_demos[0][0] / "demo-admin-password.txt").read_text() != (two_demos[1][0] / "demo-admin-password.txt").read_text()


def test_demo_info_prints_the_banner_again_and_logs_stay_quiet(two_demos):
    """`flask demo info` prints what the running demo printed; the log has no line per request or scheduler tick."""
    instance, _, ports = two_demos[0]
    flask = str(Path(sys.executable).with_name("flask"))
    for _ in range(3):
        requests.get(ports["url"] + "/admin/login", timeout=10)
    result = subprocess.run([flask, "demo", "info"], cwd=ROOT, env=ports["env"], capture_output=True, text=True,  # noqa: S603
                            timeout=60, check=True)
    password = (instance / "demo-admin-password.txt").read_text().strip()
    assert f"{ports['url']}/admin/login   admin@frontdesk.demo / {password}" in result.stdout
    assert "Client secret value:" in result.stdout and "Secret expires on:" in result.stdout
    log = (instance / "demo.log").read_text()
    assert "Frontdesk demo is running" in log
    assert "GET /admin/login" not in log and "Running job" not in log and "mail.log" not in log


def test_demo_mail_page_shows_a_test_email_with_the_demo_address(two_demos):
    """The admin sends the reset email to themself; the Mail page shows it rendered, its link on the demo's port."""
    instance, _, ports = two_demos[1]
    password = (instance / "demo-admin-password.txt").read_text().strip()
    browser = requests.Session()
    page = browser.get(ports["url"] + "/admin/login", timeout=10).text
    browser.post(ports["url"] + "/admin/login", timeout=10, data={
        "email": "admin@frontdesk.demo", "password": password, "csrf_token": csrf_from(page)})
    page = browser.get(ports["url"] + "/admin/settings/mail", timeout=10).text
    assert "Password reset email" in page, page[:500]
    parts = {name: re.search(rf'id="{name}" name="{name}"[^>]*>([^<]*)<', page) for name in ("text", "html")}
    import html as html_lib

    form = {"csrf_token": csrf_from(page), "subject": html_lib.unescape(re.search(r'id="subject" name="subject" value="([^"]*)"',
                                                                                  page).group(1)),
            **{name: html_lib.unescape(match.group(1)) for name, match in parts.items()}}
    sent = browser.post(ports["url"] + "/admin/settings/mail/test", data=form, timeout=30)
    assert "Test email sent" in sent.text, sent.text[:2000]
    mail_page = browser.get(ports["url"] + "/admin/demo/mail", timeout=10).text
    assert "Your temporary password for Contoso" in mail_page and "Xy7-sample" in mail_page
    assert f'href="{ports["url"]}/"' in mail_page
    with smtplib.SMTP("127.0.0.1", ports["mail"], timeout=10) as smtp:
        smtp.send_message(_message_to_admin())
    assert "A second message" in browser.get(ports["url"] + "/admin/demo/mail", timeout=10).text


def _message_to_admin() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "x@localhost", "admin@frontdesk.demo", "A second message"
    message.set_content("Hello")
    return message
