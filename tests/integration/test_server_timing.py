"""Server-Timing tells the portal's own time from its wait on Microsoft, and only when SERVER_TIMING is on."""
import pytest

from portal.entra.http import microsoft_wait
from tests.integration.test_mapping_pages import mapping_post


@pytest.mark.settings(SERVER_TIMING=True)
def test_a_response_that_waited_on_microsoft_says_how_long(app, client, login_as, integration):
    """Preview 5 users calls Graph: the response carries the wait; the next request starts from zero."""
    login_as("admin")
    page = mapping_post(client, integration, {}, button="preview")
    assert page.status_code == 200 and "Preview: 5 users" in page.get_data(as_text=True)
    timing = page.headers.get("Server-Timing", "")
    assert timing.startswith("microsoft;dur=") and float(timing.split("=")[1].split(";")[0]) > 0
    assert "Server-Timing" not in client.get("/admin/").headers
    assert microsoft_wait.get() == 0.0


def test_no_server_timing_unless_asked(app, client, login_as, integration):
    """Off by default: production does not tell visitors how long it waits on Microsoft."""
    login_as("admin")
    page = mapping_post(client, integration, {}, button="preview")
    assert page.status_code == 200 and "Server-Timing" not in page.headers
