"""Fetch throughput: Frontdesk's GraphClient against Microsoft's msgraph-sdk page iterator, same emulator, same run.

Both page the same users (page size 999, the same $select) over loopback HTTPS from an emulator in its own
process, with an app-only token from MSAL. The SDK turns every user into a model object and manages about
150 users/s here, so it pages the first PEER_PAGES pages (default 10: 9,990 users) and the GraphClient pages both
those and the whole tenant; throughput is compared on the same pages. Each side runs twice, alternating, and the
faster run is kept, so a burst of load elsewhere on the machine does not decide the result.
Run: .venv/bin/python -m bench.graph_peer [USERS] [PEER_PAGES]   (needs requirements-bench.txt; `make bench` installs it)
"""
import asyncio
import ssl
import sys
import time

from bench.sync_bench import _start_emulator


def main(users: int, peer_pages: int) -> None:
    from emulator.client import EmulatorClient
    from portal.directory import field_mapping
    from portal.entra.cloud import CloudEndpoints
    from portal.entra.credentials import AppCredentials, acquire_app_token
    from portal.entra.graph import GraphClient

    proc, info = _start_emulator(users)
    try:
        emu = EmulatorClient(info)
        app = emu.app()
        endpoints = CloudEndpoints(info["authority_host"], info["graph_endpoint"], info["ca_file"], overridden=True)
        creds = AppCredentials(endpoints, emu.tenant_id, app["client_id"], app["client_secret"])
        token = acquire_app_token(creds)["access_token"]
        select = field_mapping.select_for(field_mapping.default_mapping())
        whole, ours, sdk, peer_users = [], [], [], peer_pages * 999
        for _ in range(2):
            whole.append(_time(lambda: _ours(GraphClient(creds), select, users)))
            ours.append(_time(lambda: _ours(GraphClient(creds), select, peer_users)))
            sdk.append(_time(lambda: asyncio.run(_sdk(info, token, select, peer_users))))
    finally:
        proc.terminate()
    (whole_s, whole_n), (ours_s, ours_n), (sdk_s, sdk_n) = min(whole), min(ours), min(sdk)
    print(f"tenant: {users} users; page size 999; {len(select)} attributes selected")
    print(f"GraphClient, whole tenant: {whole_n} users in {whole_s:.2f} s, {whole_n / whole_s:,.0f} users/s")
    print(f"GraphClient, first {ours_n} users: {ours_s:.2f} s, {ours_n / ours_s:,.0f} users/s")
    print(f"msgraph-sdk {_sdk_version()} PageIterator, first {sdk_n} users: {sdk_s:.2f} s, {sdk_n / sdk_s:,.0f} users/s")
    print(f"GraphClient throughput = {(ours_n / ours_s) / (sdk_n / sdk_s):.1f}x the SDK's on the same pages (target >= 1.0x)")


def _time(fn):
    began = time.perf_counter()
    count = fn()
    return time.perf_counter() - began, count


def _ours(graph, select, limit: int) -> int:
    seen = 0
    for page in graph.users(select):
        seen += len(page.get("value") or [])
        if seen >= limit:
            break
    return seen


async def _sdk(info, token, select, limit: int) -> int:
    """The SDK's documented way: users.get with $top/$select, then PageIterator over every page."""
    import httpx
    from azure.core.credentials import AccessToken
    from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder
    from msgraph_core import GraphClientFactory
    from msgraph_core.tasks.page_iterator import PageIterator

    class StaticToken:
        """The same MSAL token the GraphClient side used, handed to the SDK as an azure-core credential."""

        def get_token(self, *scopes, **kwargs):
            return AccessToken(token, int(time.time()) + 3000)

    host = info["graph_endpoint"].split("//", 1)[1].split("/", 1)[0].split(":")[0]
    auth = AzureIdentityAuthenticationProvider(StaticToken(), scopes=["https://graph.microsoft.com/.default"],
                                               allowed_hosts=[host], is_cae_enabled=False)
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=ssl.create_default_context(cafile=info["ca_file"]), timeout=60))
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = f"{info['graph_endpoint']}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(top=999, select=select)
    first = await client.users.get(request_configuration=UsersRequestBuilder.UsersRequestBuilderGetRequestConfiguration(
        query_parameters=query))
    seen = 0

    def count(user) -> bool:
        nonlocal seen
        seen += 1
        return seen < limit

    await PageIterator(first, adapter).iterate(count)
    await http.aclose()
    return seen


def _sdk_version() -> str:
    from importlib.metadata import version

    return version("msgraph-sdk")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 10)
