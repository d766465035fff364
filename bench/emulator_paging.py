"""How fast the emulator serves a large tenant: 100,000 users in 101 pages of 999 over loopback HTTPS.

Prints the wall time and, as a ratio measured in the same run, how it compares with the floor:
serialising the same pages to JSON in-process, with no HTTP or TLS at all.
Run: .venv/bin/python -m bench.emulator_paging [USERS]
"""
import json
import sys
import tempfile
import time
from pathlib import Path

import msal

from emulator.client import CASession
from emulator.graph_common import render_user
from emulator.server import start

SELECT = "id,displayName,givenName,surname,userPrincipalName,mail,accountEnabled,userType,department,jobTitle,city,country"


def main(users: int) -> None:
    began = time.perf_counter()
    running = start(users=users, state_dir=Path(tempfile.mkdtemp()))
    startup = time.perf_counter() - began
    info = running.info
    app = info["applications"][0]
    http = CASession(info["ca_file"])
    cca = msal.ConfidentialClientApplication(app["client_id"], client_credential=app["client_secret"],
                                             authority=f"{info['authority_host']}/{info['tenant_id']}",
                                             instance_discovery=False, http_client=http)
    token = cca.acquire_token_for_client(["https://graph.microsoft.com/.default"])["access_token"]
    http.headers["Authorization"] = f"Bearer {token}"
    url, fetched, pages = f"{info['graph_endpoint']}/v1.0/users?$top=999&$select={SELECT}", 0, 0
    began = time.perf_counter()
    while url:
        body = http.get(url).json()
        fetched, pages, url = fetched + len(body["value"]), pages + 1, body.get("@odata.nextLink")
    served = time.perf_counter() - began
    tenant = next(iter(running.state.directory.tenants.values()))
    fields = SELECT.split(",")
    began = time.perf_counter()
    for start_index in range(0, len(tenant.sorted_ids), 999):
        json.dumps([render_user(tenant, tenant.users[i], fields) for i in tenant.sorted_ids[start_index:start_index + 999]])
    floor = time.perf_counter() - began
    running.stop()
    print(f"tenant generation + TLS setup: {startup:.2f} s for {users} users")
    print(f"served {fetched} users in {pages} pages in {served:.2f} s ({fetched / served:,.0f} users/s)")
    print(f"floor (in-process JSON of the same pages): {floor:.2f} s; HTTPS serving costs {served / floor:.1f}x the floor")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
