"""National clouds and their endpoints; ENTRA_AUTHORITY_HOST / GRAPH_ENDPOINT override them (emulator, proxies)."""
from dataclasses import dataclass

CLOUDS = {
    "global": ("Global (login.microsoftonline.com)", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": ("US Government (L4/L5)", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "china": ("China (operated by 21Vianet)", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
}


@dataclass(frozen=True)
class CloudEndpoints:
    """Where to get tokens and call Graph for one integration, and which extra CA to trust there."""

    authority_host: str
    graph_endpoint: str
    ca_bundle: str | None = None
    overridden: bool = False

    def authority(self, tenant: str) -> str:
        """The MSAL authority URL for a tenant id or domain."""
        return f"{self.authority_host}/{tenant}"

    @property
    def graph_scope(self) -> str:
        """The app-only scope: the cloud's Graph resource with /.default."""
        return f"{self.graph_endpoint}/.default"

    @property
    def graph_base(self) -> str:
        return f"{self.graph_endpoint}/v1.0"


def endpoints(cloud: str, *, authority_host: str | None = None, graph_endpoint: str | None = None,
              ca_bundle: str | None = None) -> CloudEndpoints:
    """Endpoints for `cloud`, with the configured overrides applied (both or neither)."""
    if cloud not in CLOUDS:
        raise ValueError(f"Unknown national cloud {cloud!r}; choose one of {', '.join(CLOUDS)}.")
    _, authority, graph = CLOUDS[cloud]
    overridden = bool(authority_host or graph_endpoint)
    return CloudEndpoints((authority_host or authority).rstrip("/"), (graph_endpoint or graph).rstrip("/"),
                          ca_bundle, overridden)


def choices() -> list[tuple[str, str]]:
    """(value, label) pairs for forms."""
    return [(key, label) for key, (label, _, _) in CLOUDS.items()]
