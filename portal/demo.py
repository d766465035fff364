"""`flask demo seed`, `flask demo run` and `flask demo info`: the one-command demo on SQLite with the emulator."""
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from werkzeug.serving import run_simple

from portal import accounts, policy, signals
from portal.database import db
from portal.demo_banner import (
    EMULATOR_INFO_FILE,
    PASSWORD_FILE,
    banner,
    forget_demo_state,
    read_banner,
    write_demo_state,
)
from portal.demo_mail import start_mail_catcher
from portal.models import Admin

demo_cli = AppGroup("demo", help="The local demo.")
DEMO_ADMIN = "admin@frontdesk.demo"


def _demo_password(instance: Path) -> str:
    """One random demo password per machine, kept in instance/ so reruns print the same one."""
    path = instance / PASSWORD_FILE
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def seed_demo_admin() -> tuple[str, str]:
    """Create the demo admin (and the default catalogue) once; return the admin's email and password."""
    from portal import tickets

    tickets.seed_catalogue()
    password = _demo_password(Path(current_app.instance_path))
    if not db.session.scalar(sa.select(Admin.id).where(Admin.email == DEMO_ADMIN)):
        accounts.create_admin(DEMO_ADMIN, password, "Demo Admin")
    return DEMO_ADMIN, password


@demo_cli.command("seed")
def seed():
    """Create the demo admin (idempotent) and print its credentials."""
    email, password = seed_demo_admin()
    click.echo(f"Demo admin: {email} / {password}")


def start_emulator(instance: Path, users: int) -> tuple[subprocess.Popen, dict]:
    """Start `python -m emulator` (quiet: no line per request) and wait for the info file it writes once serving."""
    info_file = instance / EMULATOR_INFO_FILE
    info_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "emulator", "--users", str(users), "--info-file", str(info_file),
           "--state-dir", str(instance / "emulator"), "--quiet",
           "--https-port", os.environ.get("EMULATOR_HTTPS_PORT", "8443"),
           "--http-port", os.environ.get("EMULATOR_HTTP_PORT", "8080")]
    proc = subprocess.Popen(cmd)  # noqa: S603 (fixed argv, our own module)
    deadline = time.monotonic() + 60
    while not info_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise click.ClickException("The Entra ID emulator did not start; see its output above.")
        time.sleep(0.1)
    return proc, json.loads(info_file.read_text())


def quiet_demo_logs() -> None:
    """No line per scheduler tick, per request or per SMTP connection (aiosmtpd's mail.log), so the banner stays
    on screen; warnings and errors still show."""
    for name in ("apscheduler", "werkzeug", "mail.log"):
        logging.getLogger(name).setLevel(logging.WARNING)


def demo_portal_url(host: str, port: int) -> str:
    """The address the demo really serves on (PORTAL_URL from the environment wins): links in emails use it."""
    if os.environ.get("PORTAL_URL"):
        return os.environ["PORTAL_URL"]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (display only)
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"


def configure_demo(app, host: str, port: int, info: dict) -> str:
    """Point the app at the emulator and at its own address; fill in the organisation's name and URL on the
    Settings page (audited, as if an admin had typed them). Returns the portal URL."""
    url = demo_portal_url(host, port)
    app.config.update(ENTRA_AUTHORITY_HOST=info["authority_host"], GRAPH_ENDPOINT=info["graph_endpoint"],
                      ENTRA_CA_BUNDLE=info["ca_file"], PORTAL_URL=url)
    organisation = info["tenants"][0]["display_name"] if info.get("tenants") else "Contoso"
    policy.set_values({"organisation_name": organisation, "portal_url": url}, actor=signals.SYSTEM)
    return url


@demo_cli.command("run")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--users", default=250, type=int, help="How many users the emulated tenant has.")
def run(host, port, users):
    """Start the emulator and the portal in one process group and print what to open."""
    app, instance = current_app._get_current_object(), Path(current_app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    # SIGTERM (not only Ctrl+C) must reach the `finally` below, so the emulator never outlives the demo.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    quiet_demo_logs()
    proc, info = start_emulator(instance, users)
    try:
        url = configure_demo(app, host, port, info)
        email, password = seed_demo_admin()
        smtp = start_mail_catcher(app)
        from portal.scheduler import start_in_process

        start_in_process(app)
        write_demo_state(instance, url, email)
        click.echo(banner(url, email, password, info, instance))
        try:
            run_simple(host, port, app, threaded=True, use_reloader=False)
        finally:
            smtp.stop()
    finally:
        forget_demo_state(instance)
        proc.terminate()


@demo_cli.command("info")
def show_info():
    """Print the running demo's banner again: URLs, the admin's password, the 5 install values, demo users."""
    instance = Path(current_app.instance_path)
    text = read_banner(instance)
    if text is None:
        raise click.ClickException(f"No demo is running from {instance}. Start one with `flask demo run` (with the "
                                   "same FRONTDESK_INSTANCE).")
    click.echo(text)
