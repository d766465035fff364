"""The demo's banner, built from what the running demo wrote to its instance folder, so `flask demo info` can print
it again after the log has scrolled it away."""
import json
import os
from datetime import date, timedelta
from pathlib import Path

STATE_FILE = "demo.json"
EMULATOR_INFO_FILE = "emulator.json"
PASSWORD_FILE = "demo-admin-password.txt"  # noqa: S105 (a file name)


def write_demo_state(instance: Path, portal_url: str, admin_email: str) -> None:
    """Record where this demo serves, for `flask demo info`; removed again when the demo stops."""
    state = {"portal_url": portal_url, "admin_email": admin_email, "pid": os.getpid()}
    (instance / STATE_FILE).write_text(json.dumps(state, indent=2))


def forget_demo_state(instance: Path) -> None:
    """The demo stopped: `flask demo info` then says so instead of printing stale addresses."""
    (instance / STATE_FILE).unlink(missing_ok=True)


def read_banner(instance: Path) -> str | None:
    """The banner of the demo running from this instance folder, or None when none is running there."""
    try:
        state = json.loads((instance / STATE_FILE).read_text())
        info = json.loads((instance / EMULATOR_INFO_FILE).read_text())
        password = (instance / PASSWORD_FILE).read_text().strip()
    except (OSError, ValueError):
        return None
    if not _alive(state.get("pid")):
        return None
    return banner(state["portal_url"], state["admin_email"], password, info, instance)


def _alive(pid) -> bool:
    """A demo killed without its clean-up leaves its file behind: only a live process counts."""
    try:
        os.kill(int(pid), 0)
    except (TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def install_values(info: dict) -> list[tuple[str, str]]:
    """The five values the Marketplace install form asks for, labelled as the form labels them."""
    app_reg = info["applications"][0]
    tenant = info["tenants"][0]["display_name"] if info.get("tenants") else "Contoso"
    return [("Display name", f"{tenant} staff"), ("Directory (tenant) ID", info["tenant_id"]),
            ("Application (client) ID", app_reg["client_id"]), ("Client secret value", app_reg["client_secret"]),
            ("Secret expires on", (date.today() + timedelta(days=365)).isoformat())]


def _people(info: dict) -> tuple[list[dict], list[dict]]:
    """Ordinary demo users to sign in as, and the directory admins (Microsoft refuses app-only resets for them)."""
    usable = [u for u in info["demo_users"] if u.get("accountEnabled") is not False]
    return [u for u in usable if not u.get("directoryRoles")][:3], [u for u in usable if u.get("directoryRoles")][:1]


def banner(portal_url: str, admin_email: str, password: str, info: dict, instance: Path) -> str:
    """What to open, who to sign in as and what to type into the install form."""
    base = portal_url.rstrip("/")
    values = "\n".join(f"    {label + ':':<26} {value}" for label, value in install_values(info))
    people, admins = _people(info)
    users = "\n".join(f"      {u['userPrincipalName']} / {u['password']}" for u in people)
    roles = "\n".join(f"      {u['userPrincipalName']} / {u['password']}   ({u['displayName']})" for u in admins)
    return f"""
  Frontdesk demo is running (instance folder: {instance}).
    Portal:        {base}/
    Admin sign-in: {base}/admin/login   {admin_email} / {password}
    Demo mail:     {base}/admin/demo/mail   (every email the portal sent, as the recipient reads it)
  Install in Marketplace > Microsoft Entra ID with these 5 values:
{values}
  Demo Microsoft users (sign in with Microsoft as one of them):
{users}
  A Global Administrator in the emulated tenant (reset and disable are refused for this account by design:
  Microsoft lets only an Entra admin act on an admin):
{roles}
  Show this again: FRONTDESK_INSTANCE={instance} flask demo info      Stop: Ctrl+C
"""
