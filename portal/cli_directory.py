"""CLI for scripted set-ups: `flask integration ...`, `flask mapping ...`, `flask sync run`, `flask scheduler run`."""
import sys
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from portal import integration_lifecycle, integrations, jobs, signals
from portal.directory import field_mapping
from portal.directory.runs import start_run
from portal.directory.sync import build_sync_engine
from portal.entra import clients
from portal.entra.credentials import EntraError
from portal.entra.graph import GraphError
from portal.exceptions import PortalError

integration_cli = AppGroup("integration", help="Entra ID integrations.")
mapping_cli = AppGroup("mapping", help="Field mappings.")
sync_cli = AppGroup("sync", help="Directory sync.")
scheduler_cli = AppGroup("scheduler", help="The background scheduler.")
CLI_ACTOR = signals.Principal("system", "cli", "Command line")


def _settings():
    return clients.MicrosoftSettings.from_config(current_app.config)


def _fail(exc: PortalError):
    detail = ""
    if isinstance(exc, EntraError) and exc.aadsts:
        detail = f" (AADSTS{exc.aadsts}{', correlation id ' + exc.correlation_id if exc.correlation_id else ''})"
    errors = (exc.detail or {}).get("errors") or {}
    lines = "".join(f"\n  {k}: {v}" for k, v in errors.items())
    raise click.ClickException(f"{exc.message}{detail}{lines}")


@integration_cli.command("add")
@click.option("--name", required=True)
@click.option("--tenant", "tenant_id", required=True, help="Tenant GUID or verified domain.")
@click.option("--client-id", required=True)
@click.option("--secret-expires", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--cloud", type=click.Choice(["global", "usgov", "china"]), default="global")
def integration_add(name, tenant_id, client_id, secret_expires, cloud):
    """Install an integration; the client secret is read from stdin, never from an argument."""
    secret = sys.stdin.readline().strip() if not sys.stdin.isatty() else click.prompt("Client secret", hide_input=True)
    form = integrations.InstallRequest(name, tenant_id, client_id, secret, secret_expires.date(), cloud)
    try:
        item = integrations.install(form, _settings(), actor=CLI_ACTOR)
    except PortalError as exc:
        _fail(exc)
    click.echo(f"Installed integration {item.id} '{item.name}': {item.status}. Permissions: "
               f"{', '.join(item.granted_permissions) or 'none'}")
    if item.status != "verified":
        raise click.ClickException(item.status_reason or "Verify did not succeed.")


@integration_cli.command("verify")
@click.argument("integration_id", type=int)
def integration_verify(integration_id):
    """Run Verify and print the permission checklist."""
    try:
        item = integrations.integration_or_404(integration_id)
    except PortalError as exc:
        _fail(exc)
    try:
        integrations.verify(item, _settings(), actor=CLI_ACTOR)
    except EntraError as exc:
        _fail(exc)
    for row in integrations.permission_checklist(item):
        click.echo(f"  [{'x' if row['ok'] else ' '}] {row['label']} (needs {row['needs']})")
    if item.status != "verified":
        raise click.ClickException(item.status_reason)
    click.echo(f"Integration {item.id} verified.")


@integration_cli.command("pause")
@click.argument("integration_id", type=int)
@click.option("--keep-sign-in", is_flag=True, help="Let people keep signing in with Microsoft while paused.")
def integration_pause(integration_id, keep_sign_in):
    """Stop syncs and account actions until resumed."""
    try:
        item = integrations.integration_or_404(integration_id)
        integration_lifecycle.pause(item, keep_sign_in, actor=CLI_ACTOR)
    except PortalError as exc:
        _fail(exc)
    click.echo(f"Integration {item.id} '{item.name}' paused; sign-in {'goes on' if keep_sign_in else 'is off'}.")


@integration_cli.command("resume")
@click.argument("integration_id", type=int)
def integration_resume(integration_id):
    """Start syncs, actions and sign-in again."""
    try:
        item = integrations.integration_or_404(integration_id)
        integration_lifecycle.resume(item, actor=CLI_ACTOR)
    except PortalError as exc:
        _fail(exc)
    click.echo(f"Integration {item.id} '{item.name}' resumed.")


@integration_cli.command("uninstall")
@click.argument("integration_id", type=int)
@click.option("--confirm-name", required=True, help="The integration's exact name.")
def integration_uninstall(integration_id, confirm_name):
    """Uninstall: the secret is wiped, requesters stay deactivated with their history."""
    try:
        item = integrations.integration_or_404(integration_id)
        count = integration_lifecycle.uninstall(item, confirm_name, actor=CLI_ACTOR)
    except PortalError as exc:
        _fail(exc)
    click.echo(f"Integration {item.id} '{item.name}' uninstalled; {count} requesters kept, deactivated.")


@integration_cli.command("list")
def integration_list():
    """One line per integration."""
    for item in integrations.all_integrations():
        state, days = integrations.expiry_state(item, date.today())
        click.echo(f"{item.id}\t{item.name}\t{item.tenant_id}\t{item.status}\tsecret expires {item.secret_expires_on}"
                   f"{' (' + str(days) + ' days)' if days is not None else ''}")


@mapping_cli.command("show")
@click.argument("integration_id", type=int)
def mapping_show(integration_id):
    """Print the mapping as tab, portal field, Graph attribute."""
    item = integrations.integration_or_404(integration_id)
    for name, attribute in integrations.mapping_of(item).items():
        click.echo(f"{field_mapping.FIELDS[name].tab}\t{name}\t{attribute or '-'}")


@mapping_cli.command("set")
@click.argument("integration_id", type=int)
@click.argument("assignments", nargs=-1, required=True)
def mapping_set(integration_id, assignments):
    """Change fields: `flask mapping set 1 department=companyName employee_id=-` ('-' unmaps)."""
    item = integrations.integration_or_404(integration_id)
    wanted = integrations.mapping_of(item)
    for assignment in assignments:
        name, sep, attribute = assignment.partition("=")
        if not sep or name not in field_mapping.FIELDS:
            raise click.ClickException(f"'{assignment}': use FIELD=ATTRIBUTE with one of {', '.join(field_mapping.FIELDS)}.")
        wanted[name] = None if attribute in ("", "-") else attribute
    try:
        changes = integrations.save_mapping(item, wanted, actor=CLI_ACTOR)
    except field_mapping.MappingInvalid as exc:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from exc
    click.echo(f"{len(changes)} field(s) changed." + (" The next sync will be a full sync." if changes else ""))


@sync_cli.command("run")
@click.option("--full", is_flag=True, help="Read every user instead of only changes.")
@click.option("--integration", "integration_id", type=int, help="Only this integration (default: every verified one).")
def run_sync_command(full, integration_id):
    """Run a sync now, with a progress line per page; exits 1 if any run fails."""
    targets = [integrations.integration_or_404(integration_id)] if integration_id else [
        i for i in integrations.all_integrations() if i.status == "verified"]
    if not targets:
        raise click.ClickException("No verified integration to sync.")
    failed = False
    for item in targets:
        try:
            run = start_run(item, "full" if full else "delta", "cli")
            build_sync_engine(item, run, jobs.sync_settings(current_app.config),
                              on_page=lambda r: click.echo(f"  page {r.pages}: {r.fetched} users read", err=True)).execute()
        except (PortalError, GraphError) as exc:
            click.echo(f"{item.name}: {exc.message}", err=True)
            failed = True
            continue
        click.echo(f"{item.name}: {run.status} ({run.mode}) created {run.created}, updated {run.updated}, unchanged "
                   f"{run.unchanged}, deactivated {run.deactivated}, reactivated {run.reactivated}, errors {run.failed}"
                   + (f". {run.message}" if run.message else ""))
        failed = failed or run.status != "succeeded"
    if failed:
        sys.exit(1)


@scheduler_cli.command("run")
def scheduler_run():
    """Run the scheduler in the foreground: delta syncs, queued runs, secret-expiry check."""
    from portal.scheduler import run_forever

    run_forever(current_app._get_current_object())


def register_directory_cli(app) -> None:
    for group in (integration_cli, mapping_cli, sync_cli, scheduler_cli):
        app.cli.add_command(group)
