"""Command-line interface: `flask admin create`, `flask audit verify`, `flask demo seed`."""
import sys

import click
from flask import Flask
from flask.cli import AppGroup

from portal import accounts, audit
from portal.exceptions import PortalError

admin_cli = AppGroup("admin", help="Local admin accounts.")
audit_cli = AppGroup("audit", help="The audit log.")


def _read_password(from_stdin: bool) -> str:
    """Read a password from stdin (scripts) or prompt twice without echo (people)."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@admin_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def admin_create(email, name, password_stdin):
    """Create a local admin account; the password is prompted for or read from stdin, never an argument."""
    try:
        admin = accounts.create_admin(email, _read_password(password_stdin), name)
    except PortalError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Admin {admin.email} created (id {admin.id}).")


@audit_cli.command("verify")
def audit_verify():
    """Walk the hash chain and report the first broken link."""
    ok, checked, broken = audit.verify_chain()
    if not ok:
        raise click.ClickException(f"Audit chain BROKEN at event {broken} (after {checked} intact events).")
    click.echo(f"Audit chain intact: {checked} events verified.")


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    from portal import cli_directory
    from portal.demo import demo_cli

    cli_directory.register_directory_cli(app)
    app.cli.add_command(admin_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(demo_cli)
