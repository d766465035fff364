"""Discovery, keys and the token endpoint, through MSAL over real HTTPS."""
import certifi
import jwt
import pytest
import requests

from emulator.client import CASession
from tests.emulator.conftest import msal_app

GRAPH_DEFAULT = ["https://graph.microsoft.com/.default"]


def test_discovery_document_has_microsoft_shape(emulator):
    """The OIDC document names the tenant's endpoints; authorize is on the browser (http) port."""
    http = CASession(emulator.info["ca_file"])
    doc = http.get(f"{emulator.info['authority_host']}/{emulator.tenant_id}/v2.0/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"{emulator.info['authority_host']}/{emulator.tenant_id}/v2.0"
    assert doc["token_endpoint"].startswith("https://") and doc["token_endpoint"].endswith("/oauth2/v2.0/token")
    assert doc["authorization_endpoint"].startswith(emulator.info["login_base"])
    assert "form_post" in doc["response_modes_supported"]
    by_domain = http.get(f"{emulator.info['authority_host']}/{emulator.info['tenant_domain']}/v2.0/.well-known/openid-configuration")
    assert by_domain.json()["issuer"] == doc["issuer"]


def test_unknown_tenant_gets_aadsts90002(emulator):
    """Discovery for an unknown tenant is a 400 with AADSTS90002, and MSAL refuses to build the app."""
    http = CASession(emulator.info["ca_file"])
    response = http.get(f"{emulator.info['authority_host']}/nope.onmicrosoft.com/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400 and response.json()["error_codes"] == [90002]
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        msal_app(emulator, tenant="00000000-0000-0000-0000-00000000dead")


def test_client_credentials_token_carries_granted_roles(emulator):
    """The app-only token is RS256-signed by the published key and lists the app's permissions in roles."""
    result = msal_app(emulator).acquire_token_for_client(GRAPH_DEFAULT)
    assert "access_token" in result, result
    http = CASession(emulator.info["ca_file"])
    jwks = http.get(f"{emulator.info['authority_host']}/{emulator.tenant_id}/discovery/v2.0/keys").json()
    header = jwt.get_unverified_header(result["access_token"])
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(result["access_token"], jwt.PyJWK(key).key, algorithms=["RS256"], audience="https://graph.microsoft.com")
    assert set(claims["roles"]) == set(emulator.app("Frontdesk")["roles"])
    assert claims["tid"] == emulator.tenant_id and claims["appid"] == emulator.app()["client_id"]
    no_consent = msal_app(emulator, "Frontdesk (no admin consent)").acquire_token_for_client(GRAPH_DEFAULT)
    assert "roles" not in jwt.decode(no_consent["access_token"], options={"verify_signature": False})


def test_wrong_secret_gets_aadsts7000215(emulator):
    """A wrong secret is invalid_client with AADSTS7000215."""
    result = msal_app(emulator, secret="wrong-secret-value").acquire_token_for_client(GRAPH_DEFAULT)
    assert result["error"] == "invalid_client" and result["error_codes"] == [7000215]


def test_expired_secret_gets_aadsts7000222(emulator):
    """An expired secret is invalid_client with AADSTS7000222."""
    app = emulator.app("Frontdesk (read only)")
    emulator.update_app(app["client_id"], secret_expires_in=-60)
    try:
        result = msal_app(emulator, "Frontdesk (read only)").acquire_token_for_client(GRAPH_DEFAULT)
        assert result["error"] == "invalid_client" and result["error_codes"] == [7000222]
    finally:
        emulator.update_app(app["client_id"], secret_expires_in=None)


def test_unknown_client_gets_aadsts700016(emulator):
    """A client id not registered in the tenant is unauthorized_client with AADSTS700016."""
    http = CASession(emulator.info["ca_file"])
    response = http.post(f"{emulator.info['authority_host']}/{emulator.tenant_id}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": "11111111-1111-1111-1111-111111111111",
        "client_secret": "x", "scope": GRAPH_DEFAULT[0]})
    body = response.json()
    assert response.status_code == 400 and body["error"] == "unauthorized_client" and body["error_codes"] == [700016]
    assert body["trace_id"] and body["correlation_id"] and "AADSTS700016" in body["error_description"]


def test_client_credentials_needs_dot_default_scope(emulator):
    """Client credentials without a /.default scope is invalid_scope."""
    result = msal_app(emulator).acquire_token_for_client(["User.Read"])
    assert result["error"] == "invalid_scope"


def test_https_is_real_tls(emulator):
    """Without the emulator's CA, TLS verification fails: the certificate is genuinely checked."""
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{emulator.info['authority_host']}/{emulator.tenant_id}/discovery/v2.0/keys",
                     verify=certifi.where(), timeout=10)
