"""MSAL confidential clients for app-only tokens, and plain-language errors for every way they fail."""
import hashlib
import threading
from dataclasses import dataclass

import jwt
import msal
import requests

from portal.entra.cloud import CloudEndpoints
from portal.entra.http import MicrosoftSession
from portal.exceptions import EntraError

AADSTS_MESSAGES = {
    90002: ("tenant_not_found", "Microsoft does not know this tenant. Check the Tenant ID (Directory ID) on the app "
                                "registration's Overview page, and that the national cloud is the right one."),
    900023: ("tenant_not_found", "The Tenant ID is not a valid tenant GUID or domain."),
    700016: ("client_not_found", "No app with this Client ID exists in the tenant. Copy the Application (client) ID "
                                 "from the app registration's Overview page."),
    7000215: ("invalid_secret", "The client secret is wrong. Copy the secret's Value (not its Secret ID) from "
                                "Certificates & secrets, or create a new secret."),
    7000222: ("secret_expired", "The client secret has expired. Create a new one under Certificates & secrets and "
                                "use 'Replace secret' here."),
    7000216: ("invalid_secret", "No client secret was sent. Enter the secret's Value."),
}


@dataclass(frozen=True)
class AppCredentials:
    """What MSAL needs for app-only tokens."""

    endpoints: CloudEndpoints
    tenant: str
    client_id: str
    client_secret: str


_clients: dict = {}
_clients_lock = threading.Lock()


def confidential_client(creds: AppCredentials) -> msal.ConfidentialClientApplication:
    """One MSAL client per credential set, so its in-memory token cache is reused between calls."""
    key = (creds.endpoints, creds.tenant, creds.client_id, hashlib.sha256(creds.client_secret.encode()).hexdigest())
    with _clients_lock:
        if key not in _clients:
            _clients[key] = msal.ConfidentialClientApplication(
                creds.client_id, client_credential=creds.client_secret,
                authority=creds.endpoints.authority(creds.tenant),
                instance_discovery=False if creds.endpoints.overridden else None,
                http_client=MicrosoftSession(creds.endpoints.ca_bundle), timeout=30)
        return _clients[key]


def forget(creds: AppCredentials) -> None:
    """Drop cached clients (after a secret is replaced)."""
    with _clients_lock:
        for key in [k for k in _clients if k[1] == creds.tenant and k[2] == creds.client_id]:
            del _clients[key]


def forget_all_clients() -> None:
    """Drop every cached client and its tokens (tests, and after a key rotation)."""
    with _clients_lock:
        _clients.clear()


def acquire_app_token(creds: AppCredentials) -> dict:
    """An app-only token for Graph, or an EntraError that says what to fix."""
    try:
        result = confidential_client(creds).acquire_token_for_client([creds.endpoints.graph_scope])
    except requests.exceptions.SSLError as exc:
        raise EntraError(f"The connection to {creds.endpoints.authority_host} is not trusted (TLS certificate check "
                         "failed). If a proxy inspects TLS, set ENTRA_CA_BUNDLE to its CA certificate.",
                         code="tls", description=str(exc)[:300]) from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise EntraError(f"Frontdesk could not reach Microsoft at {creds.endpoints.authority_host}. Check the "
                         "network, proxy and firewall, then try again.", code="network", description=str(exc)[:300]) from exc
    except ValueError as exc:  # MSAL raises this when tenant discovery answers 4xx
        code, message = AADSTS_MESSAGES[90002]
        raise EntraError(message, code=code, aadsts=90002, description=str(exc)[:300]) from exc
    if "access_token" in result:
        return result
    raise _error_from_result(result)


def _error_from_result(result: dict) -> EntraError:
    codes = result.get("error_codes") if isinstance(result.get("error_codes"), list) else []
    aadsts = codes[0] if codes and isinstance(codes[0], int) else None
    error = result.get("error") if isinstance(result.get("error"), str) else "token_error"
    description = result.get("error_description") if isinstance(result.get("error_description"), str) else ""
    code, message = AADSTS_MESSAGES.get(aadsts, (None, None))
    if code is None and (error == "temporarily_unavailable" or aadsts == 90055 or "toomanyrequests" in str(result).lower()):
        code, message = "throttled", "Microsoft is throttling sign-in requests. Wait a minute and try again."
    elif code is None:
        code = error
        message = f"Microsoft refused the token request: {(description or error).splitlines()[0][:300]}"
    correlation = result.get("correlation_id") if isinstance(result.get("correlation_id"), str) else None
    return EntraError(message, code=code, aadsts=aadsts, correlation_id=correlation, description=description)


def token_claims(access_token: str) -> dict:
    """Read the app token's claims (roles, tid); MSAL already checked where it came from over TLS."""
    return jwt.decode(access_token, options={"verify_signature": False})
