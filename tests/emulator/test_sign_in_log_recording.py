"""Real sign-in attempts on the emulator's pages and token endpoint land in /auditLogs/signIns in Microsoft's shape."""
import re
import uuid

import pytest
import requests

from emulator.client import CASession
from tests.emulator.conftest import msal_app
from tests.emulator.test_graph import _new_user
from tests.msft import result_params, submit_login

REDIRECT = "http://localhost:5999/auth/callback"
EDGE_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91")
SIGN_IN_KEYS = {"id", "createdDateTime", "userDisplayName", "userPrincipalName", "userId", "appId", "appDisplayName",
                "ipAddress", "clientAppUsed", "correlationId", "isInteractive", "conditionalAccessStatus", "status",
                "deviceDetail", "location"}
CREATED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$")


@pytest.fixture
def browser():
    """A cookie-keeping client with a real browser's User-Agent, standing in for a person's browser."""
    session = requests.Session()
    session.headers["User-Agent"] = EDGE_ON_WINDOWS
    return session


def _login_page(emulator, browser, **kwargs):
    flow = msal_app(emulator).initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, response_mode="query",
                                                      **kwargs)
    return flow, browser.get(flow["auth_uri"])


def _events(graph, **equals) -> list[dict]:
    """The events Graph serves for `prop eq 'value'` clauses joined by and."""
    query = " and ".join(f"{k} eq '{v}'" for k, v in equals.items())
    response = graph.get(graph.base + "/auditLogs/signIns", params={"$filter": query})
    assert response.status_code == 200, response.text
    return response.json()["value"]


def _codes(events) -> list[int]:
    return [e["status"]["errorCode"] for e in events]


def test_wrong_password_then_success_in_graph_shape(emulator, graph, browser):
    """A wrong password (50126) then the right one (0): both events, newest first, with every documented field."""
    user = _new_user(emulator)
    _, page = _login_page(emulator, browser)
    assert "AADSTS50126" in submit_login(browser, page, user["userPrincipalName"], "wrong").text
    assert "code" in result_params(submit_login(browser, page, user["userPrincipalName"], "Start-Password-1"))
    success, failure = _events(graph, userId=user["id"])
    app = emulator.app()
    for event in (success, failure):
        assert SIGN_IN_KEYS <= set(event) and CREATED.match(event["createdDateTime"])
        assert uuid.UUID(event["id"]) and uuid.UUID(event["correlationId"])
        assert (event["userId"], event["userPrincipalName"], event["userDisplayName"]) == (
            user["id"], user["userPrincipalName"], user["displayName"])
        assert (event["appId"], event["appDisplayName"]) == (app["client_id"], "Frontdesk")
        assert (event["ipAddress"], event["clientAppUsed"], event["isInteractive"]) == ("127.0.0.1", "Browser", True)
        assert event["conditionalAccessStatus"] == "notApplied"
        assert event["deviceDetail"]["browser"] == "Edge 120.0.2210.91"
        assert event["deviceDetail"]["operatingSystem"] == "Windows 10"
        assert (event["location"]["city"], event["location"]["countryOrRegion"]) == ("Redmond", "US")
    assert success["createdDateTime"] > failure["createdDateTime"]
    assert success["status"] == {"errorCode": 0, "failureReason": None, "additionalDetails": None}
    assert failure["status"]["errorCode"] == 50126
    assert failure["status"]["failureReason"] == "Error validating credentials due to invalid username or password."
    assert failure["status"]["additionalDetails"].startswith("The user didn't enter the right credentials.")


def test_unknown_user_is_logged_as_typed_without_a_user_id(emulator, graph, browser):
    """AADSTS50034: Entra cannot tell who it was, so userId is empty and the UPN is what the person typed."""
    typed = f"Nobody-{uuid.uuid4().hex[:8]}@{emulator.info['tenant_domain']}"
    _, page = _login_page(emulator, browser)
    assert "AADSTS50034" in submit_login(browser, page, typed, "whatever").text
    [event] = _events(graph, userPrincipalName=typed)
    assert (event["userId"], event["userDisplayName"], event["userPrincipalName"]) == ("", "", typed)
    assert event["status"]["errorCode"] == 50034
    assert event["status"]["failureReason"].startswith("The user account does not exist in the directory.")


def test_lockout_is_logged_after_the_wrong_passwords(emulator, graph, browser):
    """Nine 50126, the tenth attempt 50053 (smart lockout), and the right password while locked is 50053 too."""
    user = _new_user(emulator)
    _, page = _login_page(emulator, browser)
    for _ in range(10):
        submit_login(browser, page, user["userPrincipalName"], "wrong")
    submit_login(browser, page, user["userPrincipalName"], "Start-Password-1")
    assert _codes(_events(graph, userId=user["id"])) == [50053, 50053] + [50126] * 9


def test_disabled_cancel_and_mfa_are_logged_for_the_user(emulator, graph):
    """50057 (disabled), 65004 (Cancel with the name typed) and 50076 (MFA required) are attributed to the user."""
    disabled, other = _new_user(emulator, accountEnabled=False), _new_user(emulator)
    _, page = _login_page(emulator, session := requests.Session())
    submit_login(session, page, disabled["userPrincipalName"], "Start-Password-1")
    _, page = _login_page(emulator, session := requests.Session())
    assert result_params(submit_login(session, page, other["userPrincipalName"], "", action="cancel"))["error"] == \
        "access_denied"
    client_id = emulator.app()["client_id"]
    try:
        emulator.update_app(client_id, user_consent="interaction_required")
        _, page = _login_page(emulator, session := requests.Session())
        submit_login(session, page, other["userPrincipalName"], "Start-Password-1")
    finally:
        emulator.update_app(client_id, user_consent="granted")
    assert _codes(_events(graph, userId=disabled["id"])) == [50057]
    mfa, cancel = _events(graph, userId=other["id"])
    assert (mfa["status"]["errorCode"], cancel["status"]["errorCode"]) == (50076, 65004)
    assert cancel["status"]["failureReason"] == "User declined to consent to access the app."


def test_silent_sign_in_without_a_session_is_logged(emulator, graph):
    """prompt=none with no session is AADSTS50058, logged under the login_hint given (no user id)."""
    hint = f"silent-{uuid.uuid4().hex[:8]}@{emulator.info['tenant_domain']}"
    flow = msal_app(emulator).initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, response_mode="query",
                                                      prompt="none", login_hint=hint)
    response = requests.get(flow["auth_uri"], allow_redirects=False)
    assert result_params(response)["error"] == "login_required"
    [event] = _events(graph, userPrincipalName=hint)
    assert (event["status"]["errorCode"], event["userId"]) == (50058, "")


def _code_for(emulator, user):
    """A fresh authorization code for `user` (and the flow that asked for it)."""
    browser = requests.Session()
    flow, page = _login_page(emulator, browser)
    return flow, result_params(submit_login(browser, page, user["userPrincipalName"], "Start-Password-1"))["code"]


def test_token_endpoint_refusals_are_non_interactive_failures(emulator, graph):
    """A PKCE mismatch (501481), a reused code (54005) and a wrong secret (7000215) on a code redemption are logged
    for the code's user with the correlation id of the error body; client credentials failures are not user sign-ins."""
    user, app = _new_user(emulator), emulator.app()
    http = CASession(emulator.info["ca_file"])
    token_url = f"{emulator.info['authority_host']}/{emulator.tenant_id}/oauth2/v2.0/token"

    def redeem(code, verifier, secret=app["client_secret"]):
        return http.post(token_url, data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                          "client_id": app["client_id"], "client_secret": secret,
                                          "code_verifier": verifier})
    flow, code = _code_for(emulator, user)
    mismatch = redeem(code, "x" * 50)
    assert mismatch.json()["error_codes"] == [501481]
    flow, code = _code_for(emulator, user)
    assert redeem(code, flow["code_verifier"]).status_code == 200
    assert redeem(code, flow["code_verifier"]).json()["error_codes"] == [54005]
    flow, code = _code_for(emulator, user)
    assert redeem(code, flow["code_verifier"], secret="not-the-secret").json()["error_codes"] == [7000215]
    wrong_client_secret = http.post(token_url, data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                                     "client_secret": "nope", "scope": "https://graph.microsoft.com/.default"})
    assert wrong_client_secret.status_code == 401
    events = _events(graph, userId=user["id"])
    assert _codes(events) == [7000215, 0, 54005, 0, 501481, 0]
    token_events = [e for e in events if not e["isInteractive"]]
    assert _codes(token_events) == [7000215, 54005, 501481]
    assert {e["clientAppUsed"] for e in token_events} == {"Mobile Apps and Desktop clients"}
    assert token_events[-1]["correlationId"] == mismatch.json()["correlation_id"]
    assert token_events[-1]["status"]["failureReason"].startswith("The Code_Verifier does not match")
    unattributed = [e for e in emulator.sign_ins() if e["status"]["errorCode"] == 7000215 and not e["userId"]]
    assert unattributed == []
