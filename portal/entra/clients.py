"""Builds MSAL credentials and GraphClients from a stored Integration, so callers never handle secrets or endpoints."""
from dataclasses import dataclass

from portal.crypto import SecretBox
from portal.entra.cloud import endpoints
from portal.entra.credentials import AppCredentials
from portal.entra.graph import GraphClient, RetryPolicy


@dataclass(frozen=True)
class MicrosoftSettings:
    """Endpoint overrides and retry settings from the app config."""

    authority_host: str | None = None
    graph_endpoint: str | None = None
    ca_bundle: str | None = None
    encryption_key: str = ""
    retry: RetryPolicy | None = None

    @classmethod
    def from_config(cls, config) -> "MicrosoftSettings":
        """Build from the app config mapping."""
        retry = RetryPolicy(max_attempts=config.get("GRAPH_MAX_ATTEMPTS", 6), base=config.get("GRAPH_BACKOFF_BASE", 0.5),
                            cap=config.get("GRAPH_BACKOFF_CAP", 30.0), max_total_sleep=config.get("GRAPH_MAX_TOTAL_SLEEP", 120.0))
        return cls(config.get("ENTRA_AUTHORITY_HOST"), config.get("GRAPH_ENDPOINT"), config.get("ENTRA_CA_BUNDLE"),
                   config["ENCRYPTION_KEY"], retry)


def app_credentials(settings: MicrosoftSettings, cloud: str, tenant: str, client_id: str, secret: str) -> AppCredentials:
    """Credentials for typed-in values (install, replace secret) before anything is stored."""
    ends = endpoints(cloud, authority_host=settings.authority_host, graph_endpoint=settings.graph_endpoint,
                     ca_bundle=settings.ca_bundle)
    return AppCredentials(ends, tenant, client_id, secret)


def credentials_for(integration, settings: MicrosoftSettings) -> AppCredentials:
    """Decrypt the stored secret into MSAL credentials (kept in memory only)."""
    secret = SecretBox(settings.encryption_key).decrypt(integration.secret_encrypted)
    return app_credentials(settings, integration.cloud, integration.tenant_id, integration.client_id, secret)


def graph_for(integration, settings: MicrosoftSettings, **kwargs) -> GraphClient:
    """A GraphClient for one integration."""
    return GraphClient(credentials_for(integration, settings), retry=settings.retry, **kwargs)
