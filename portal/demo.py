"""`flask demo seed` and `flask demo run`: the one-command demo on SQLite with the emulator."""
import json
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

from portal import accounts
from portal.database import db
from portal.models import Admin

demo_cli = AppGroup("demo", help="The local demo.")
DEMO_ADMIN = "admin@frontdesk.demo"


def _demo_password(instance: Path) -> str:
    """One random demo password per machine, kept in instance/ so reruns print the same one."""
    path = instance / "demo-admin-password.txt"
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
    """Start `python -m emulator` and wait for the info file it writes once it is serving."""
    info_file = instance / "emulator.json"
    info_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "emulator", "--users", str(users), "--info-file", str(info_file),
           "--state-dir", str(instance / "emulator"),
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


@demo_cli.command("run")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--users", default=250, type=int, help="How many users the emulated tenant has.")
def run(host, port, users):
    """Start the emulator and the portal in one process group and print what to open."""
    instance = Path(current_app.instance_path)
    # SIGTERM (not only Ctrl+C) must reach the `finally` below, so the emulator never outlives the demo.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    proc, info = start_emulator(instance, users)
    current_app.config.update(ENTRA_AUTHORITY_HOST=info["authority_host"], GRAPH_ENDPOINT=info["graph_endpoint"],
                              ENTRA_CA_BUNDLE=info["ca_file"])
    email, password = seed_demo_admin()
    smtp = start_mail_catcher(current_app.config)
    from portal.scheduler import start_in_process

    start_in_process(current_app._get_current_object())
    _print_banner(host, port, email, password, info)
    try:
        run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)
    finally:
        smtp.stop()
        proc.terminate()


class PrintingHandler:
    """The demo's SMTP server prints each message, so the temporary-password email can be read in the terminal."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        click.echo("\n----- email received by the demo SMTP server -----")
        click.echo(f"To: {', '.join(envelope.rcpt_tos)}")
        click.echo(envelope.content.decode("utf-8", "replace").split("\n\n<", 1)[0][:4000])
        click.echo("----- end of email -----\n")
        return "250 Message accepted for delivery"


def start_mail_catcher(config):
    """A real SMTP server (aiosmtpd) on loopback for the demo's outgoing mail."""
    from aiosmtpd.controller import Controller

    controller = Controller(PrintingHandler(), hostname=config["MAIL_SERVER"], port=int(config["MAIL_PORT"]))
    controller.start()
    return controller


def _print_banner(host, port, email, password, info):
    app_reg = info["applications"][0]
    # Ordinary people first: Microsoft refuses app-only password resets and disables for directory admins.
    people = sorted(info["demo_users"], key=lambda u: bool(u.get("directoryRoles")))[:4]
    users = "\n".join(f"      {u['userPrincipalName']} / {u['password']}"
                      + (f"   ({', '.join(u['directoryRoles'])}: workflow actions on this account are refused)"
                         if u.get("directoryRoles") else "") for u in people)
    click.echo(f"""
  Frontdesk demo is running.
    Portal:        http://{host}:{port}/
    Admin sign-in: http://{host}:{port}/admin/login   {email} / {password}
  Entra ID emulator (use these in Marketplace > Microsoft Entra ID):
    Tenant ID:     {info['tenant_id']}
    Client ID:     {app_reg['client_id']}
    Client secret: {app_reg['client_secret']}
  Demo Microsoft users:
{users}
  Press Ctrl+C to stop.
""")
