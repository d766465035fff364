"""The browser sign-in: MSAL auth code + PKCE round trip, every refusal, forced password change, SSO, logout."""
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from emulator.client import CASession
from tests.emulator.conftest import msal_app
from tests.emulator.test_graph import _new_user
from tests.msft import result_params, submit_login, submit_password_change

REDIRECT = "http://localhost:5999/auth/callback"


def _token_http(emulator):
    return CASession(emulator.info["ca_file"])


@pytest.fixture
def browser():
    """A cookie-keeping HTTP client standing in for a person's browser (plain http pages)."""
    return requests.Session()


def _start(emulator, browser, response_mode="form_post", **kwargs):
    app = msal_app(emulator)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, response_mode=response_mode, **kwargs)
    page = browser.get(flow["auth_uri"])
    return app, flow, page


def test_auth_code_pkce_round_trip_form_post(emulator, browser):
    """Sign in on the page; the code posted back redeems through MSAL into an id token with our claims."""
    user = _new_user(emulator)
    app, flow, page = _start(emulator, browser)
    assert page.status_code == 200 and "Sign in" in page.text
    assert "code_challenge_method=S256" in flow["auth_uri"]
    params = result_params(submit_login(browser, page, user["userPrincipalName"], "Start-Password-1"))
    assert params["state"] == flow["state"] and params["code"]
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "id_token_claims" in result, result
    claims = result["id_token_claims"]
    assert claims["oid"] == user["id"] and claims["tid"] == emulator.tenant_id
    assert claims["preferred_username"] == user["userPrincipalName"]
    replay = app.acquire_token_by_auth_code_flow(dict(flow), params)
    assert replay.get("error") in ("invalid_grant", "state_mismatch") or replay.get("error_codes") == [54005]


def test_query_response_mode_and_single_use_code(emulator, browser):
    """response_mode=query redirects with the code; a second redemption is AADSTS54005."""
    user = _new_user(emulator)
    app, flow, page = _start(emulator, browser, response_mode="query")
    response = submit_login(browser, page, user["userPrincipalName"], "Start-Password-1")
    assert response.status_code == 302 and response.headers["Location"].startswith(REDIRECT)
    params = result_params(response)
    token_url = f"{emulator.info['authority_host']}/{emulator.tenant_id}/oauth2/v2.0/token"
    form = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT,
            "client_id": emulator.app()["client_id"], "client_secret": emulator.app()["client_secret"],
            "code_verifier": flow["code_verifier"], "scope": "User.Read openid profile"}
    first = _token_http(emulator).post(token_url, data=form)
    second = _token_http(emulator).post(token_url, data=form)
    assert first.status_code == 200 and "id_token" in first.json()
    assert second.status_code == 400 and second.json()["error_codes"] == [54005]


def test_wrong_pkce_verifier_is_refused(emulator, browser):
    """A code redeemed with another verifier is AADSTS501481."""
    user = _new_user(emulator)
    app, flow, page = _start(emulator, browser, response_mode="query")
    params = result_params(submit_login(browser, page, user["userPrincipalName"], "Start-Password-1"))
    response = _token_http(emulator).post(f"{emulator.info['authority_host']}/{emulator.tenant_id}/oauth2/v2.0/token", data={
        "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT,
        "client_id": emulator.app()["client_id"], "client_secret": emulator.app()["client_secret"],
        "code_verifier": "x" * 50})
    assert response.json()["error_codes"] == [501481]


def test_cancel_returns_access_denied(emulator, browser):
    """The Cancel button sends error=access_denied back to the app."""
    _, flow, page = _start(emulator, browser)
    params = result_params(submit_login(browser, page, "", "", action="cancel"))
    assert params["error"] == "access_denied" and params["state"] == flow["state"]


def test_wrong_password_then_smart_lockout(emulator, browser):
    """Wrong passwords show AADSTS50126 on the page; the tenth locks with AADSTS50053 sent to the app."""
    user = _new_user(emulator)
    _, _, page = _start(emulator, browser)
    for _ in range(9):
        response = submit_login(browser, page, user["userPrincipalName"], "wrong")
        assert response.status_code == 200 and "AADSTS50126" in response.text
    params = result_params(submit_login(browser, page, user["userPrincipalName"], "wrong"))
    assert params["error"] == "access_denied" and "AADSTS50053" in params["error_description"]
    locked = result_params(submit_login(browser, page, user["userPrincipalName"], "Start-Password-1"))
    assert "AADSTS50053" in locked["error_description"]


def test_disabled_account_is_refused(emulator, browser):
    """A disabled account gets AADSTS50057."""
    user = _new_user(emulator, accountEnabled=False)
    _, _, page = _start(emulator, browser)
    params = result_params(submit_login(browser, page, user["userPrincipalName"], "Start-Password-1"))
    assert "AADSTS50057" in params["error_description"]


def test_unassigned_user_and_consent_errors(emulator, browser):
    """Assignment required gives AADSTS50105; consent settings give consent_required / interaction_required."""
    user = _new_user(emulator)
    client_id = emulator.app()["client_id"]
    try:
        emulator.update_app(client_id, assignment_required=True)
        _, _, page = _start(emulator, browser)
        assert "AADSTS50105" in result_params(submit_login(browser, page, user["userPrincipalName"],
                                                             "Start-Password-1"))["error_description"]
        for setting in ("consent_required", "interaction_required"):
            emulator.update_app(client_id, assignment_required=False, user_consent=setting)
            _, _, page = _start(emulator, requests.Session())
            params = result_params(submit_login(requests.Session(), page, user["userPrincipalName"], "Start-Password-1"))
            assert params["error"] == setting
    finally:
        emulator.update_app(client_id, assignment_required=False, user_consent="granted")


def test_forced_password_change_before_code(emulator, browser):
    """A user flagged to change password must set a new, different, complex one before a code is issued."""
    user = _new_user(emulator, password="Temp-Pass-1234", forceChangePasswordNextSignIn=True)
    _, _, page = _start(emulator, browser)
    change_page = submit_login(browser, page, user["userPrincipalName"], "Temp-Pass-1234")
    assert "Update your password" in change_page.text
    change_page.url = page.url
    same = submit_password_change(browser, change_page, "Temp-Pass-1234")
    assert "current password" in same.text
    weak = submit_password_change(browser, change_page, "password")
    assert "3 of" in weak.text
    params = result_params(submit_password_change(browser, change_page, "Brand-New-Pass-77"))
    assert params["code"]
    assert emulator.user(user["id"])["forceChangePasswordNextSignIn"] is False


def test_sso_cookie_prompt_none_and_logout(emulator, browser):
    """After sign-in the browser gets codes silently; prompt=none without a session is login_required; logout ends it."""
    user = _new_user(emulator)
    _, _, page = _start(emulator, browser, response_mode="query")
    submit_login(browser, page, user["userPrincipalName"], "Start-Password-1")
    app = msal_app(emulator)
    silent = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, response_mode="query", prompt="none")
    assert "code" in result_params(browser.get(silent["auth_uri"], allow_redirects=False))
    logout = browser.get(f"{emulator.info['login_base']}/{emulator.tenant_id}/oauth2/v2.0/logout",
                         params={"post_logout_redirect_uri": "http://localhost:5999/signed-out"}, allow_redirects=False)
    assert logout.headers["Location"] == "http://localhost:5999/signed-out"
    again = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, response_mode="query", prompt="none")
    assert result_params(browser.get(again["auth_uri"], allow_redirects=False))["error"] == "login_required"


def test_unregistered_redirect_uri_is_an_error_page(emulator, browser):
    """A non-loopback redirect URI that is not registered stops at an AADSTS50011 page."""
    app = msal_app(emulator)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri="https://evil.example/cb")
    page = browser.get(flow["auth_uri"])
    assert page.status_code == 400 and "AADSTS50011" in page.text
    assert urlsplit(page.url).hostname == "localhost"


def test_tampered_login_context_is_refused(emulator, browser):
    """The signed sign-in context cannot be altered."""
    _, _, page = _start(emulator, browser)
    response = browser.post(f"{emulator.info['login_base']}/{emulator.tenant_id}/login",
                            data={"ctx": "eyJ4IjoxfQ." + uuid.uuid4().hex, "username": "a", "password": "b"})
    assert response.status_code == 400 and "AADSTS900561" in response.text
