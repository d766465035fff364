"""Helpers for the emulator's own tests: MSAL apps and Graph sessions bound to the emulator's CA."""
import msal
import pytest

from emulator.client import CASession
from tests.emulator.receiver import Receiver


def msal_app(emulator, app_name="Frontdesk", secret=None, tenant=None):
    """A ConfidentialClientApplication pointed at the emulator, as the portal builds one."""
    app = emulator.app(app_name)
    return msal.ConfidentialClientApplication(
        app["client_id"], client_credential=secret or app["client_secret"],
        authority=f"{emulator.info['authority_host']}/{tenant or emulator.tenant_id}",
        instance_discovery=False, http_client=CASession(emulator.info["ca_file"]))


@pytest.fixture
def graph(emulator):
    """A Graph session with an app-only token of the fully consented app; `graph.as_app(name)` for others."""
    def session_for(app_name="Frontdesk"):
        result = msal_app(emulator, app_name).acquire_token_for_client(["https://graph.microsoft.com/.default"])
        http = CASession(emulator.info["ca_file"])
        http.headers["Authorization"] = f"Bearer {result['access_token']}"
        http.base = emulator.info["graph_endpoint"] + "/v1.0"
        return http

    http = session_for()
    http.as_app = session_for
    return http


@pytest.fixture(autouse=True)
def _no_faults(emulator):
    """Every test starts and ends with faults switched off."""
    emulator.clear_faults()
    yield
    emulator.clear_faults()


DEFAULT_SETTINGS = {"batch_window_ms": 50, "max_batch": 100, "retry_base_seconds": 1.0, "max_attempts": 8,
                    "validation_timeout_seconds": 10.0, "ca_file": None}


@pytest.fixture
def receiver(emulator):
    """A real loopback endpoint; every test ends with no subscription and default delivery settings."""
    endpoint = Receiver()
    yield endpoint
    emulator.clear_subscriptions()
    emulator.notification_settings(**DEFAULT_SETTINGS)
    endpoint.stop()
