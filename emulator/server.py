"""Start the emulator: HTTPS for discovery, tokens and Graph; optional plain HTTP for browser pages."""
import json
import logging
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from emulator.app import create_emulator_app
from emulator.directory import Directory
from emulator.pki import create_pki, server_context
from emulator.seed import DEMO_PASSWORD, load_seed_file, make_tenant
from emulator.state import EmulatorState

log = logging.getLogger("emulator")


class RunningEmulator:
    """A started emulator: its servers, its state and the info document it published."""

    def __init__(self, state: EmulatorState, servers: list, info: dict):
        self.state, self.servers, self.info = state, servers, info

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def build_directory(users: int, seed: int, seed_file: str | None, tenants: int = 1) -> Directory:
    """Tenants from a seed file, or `tenants` generated tenants with `users` users each."""
    directory = Directory()
    if seed_file:
        for tenant in load_seed_file(seed_file):
            directory.add_tenant(tenant)
        return directory
    names = ["Contoso", "Fabrikam", "Northwind"]
    for index in range(tenants):
        directory.add_tenant(make_tenant(seed + index, users, name=names[index % len(names)]))
    return directory


def _serve(host: str, port: int, app, ssl_context=None):
    server = make_server(host, port, app, threaded=True, ssl_context=ssl_context)
    threading.Thread(target=server.serve_forever, name=f"emulator-{port}", daemon=True).start()
    return server


def start(*, host="127.0.0.1", https_port=0, http_port=None, users=250, seed=1, seed_file=None, tenants=1,
          state_dir: Path, info_file: Path | None = None) -> RunningEmulator:
    """Generate the PKI, build the directory, serve, and write the info file last (it signals readiness)."""
    began = time.monotonic()
    state = EmulatorState(build_directory(users, seed, seed_file, tenants))
    paths = create_pki(Path(state_dir))
    state.sign_ins.attach(Path(state_dir))
    app = create_emulator_app(state)
    servers = [_serve(host, https_port, app, server_context(paths))]
    state.https_base = f"https://{_display_host(host)}:{servers[0].server_port}"
    if http_port is not None:
        servers.append(_serve(host, http_port, app))
        state.http_base = f"http://{_display_host(host)}:{servers[1].server_port}"
    info = describe(state, paths["ca"])
    info["startup_seconds"] = round(time.monotonic() - began, 2)
    if info_file:
        tmp = Path(info_file).with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=2, ensure_ascii=False))
        tmp.replace(info_file)
    return RunningEmulator(state, servers, info)


def _display_host(host: str) -> str:
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "localhost") else host  # noqa: S104 (display only)


def describe(state: EmulatorState, ca_file: Path) -> dict:
    """What clients need: endpoints, CA, tenants, app credentials, demo users and the control token."""
    tenants = []
    for tenant in state.directory.tenants.values():
        demo = [tenant.users[uid] for uid in list(tenant.users)[:6]]
        tenants.append({
            "tenant_id": tenant.id, "domain": tenant.domain, "display_name": tenant.display_name,
            "user_count": len(tenant.users),
            "applications": [{"client_id": a.client_id, "client_secret": a.client_secret, "display_name": a.display_name,
                              "roles": sorted(a.roles), "app_roles": [{"id": r["id"], "value": r["value"]}
                                                                      for r in a.app_roles],
                              "group_membership_claims": a.group_membership_claims} for a in tenant.apps.values()],
            "groups": [{"id": gr.id, "displayName": gr.props["displayName"]} for gr in tenant.groups.groups.values()],
            "demo_users": [{"id": u.id, "userPrincipalName": u.props["userPrincipalName"], "password": DEMO_PASSWORD,
                            "displayName": u.props["displayName"], "accountEnabled": u.props.get("accountEnabled"),
                            "directoryRoles": u.directory_roles} for u in demo],
        })
    first = tenants[0]
    return {"authority_host": state.https_base, "graph_endpoint": state.https_base, "login_base": state.browser_base,
            "ca_file": str(Path(ca_file).resolve()), "tenant_id": first["tenant_id"], "tenant_domain": first["domain"],
            "applications": first["applications"], "demo_users": first["demo_users"], "groups": first["groups"],
            "tenants": tenants,
            "control_url": f"{state.https_base}/_emulator", "control_token": state.control_token}
