"""Test switches for relying parties: a one-shot tampered id token of a named kind, and a signing-key rollover."""
import jwt
import pytest
import requests

from emulator.client import CASession
from emulator.tampering import FOREIGN_TENANT, KINDS
from tests.emulator.conftest import msal_app
from tests.emulator.test_graph import _new_user
from tests.msft import result_params, submit_login

REDIRECT = "http://localhost:5999/auth/callback"


def id_token_of_a_sign_in(emulator) -> str:
    """The raw id token from one real auth-code round trip (MSAL; nonce and aud as issued)."""
    user, browser, app = _new_user(emulator), requests.Session(), msal_app(emulator)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri=REDIRECT, response_mode="form_post")
    page = browser.get(flow["auth_uri"])
    params = result_params(submit_login(browser, page, user["userPrincipalName"], "Start-Password-1"))
    return app.acquire_token_by_auth_code_flow(flow, params)["id_token"]


def published_kids(emulator) -> set:
    http = CASession(emulator.info["ca_file"])
    return {k["kid"] for k in http.get(f"{emulator.info['authority_host']}/{emulator.tenant_id}/discovery/v2.0/keys")
            .json()["keys"]}


def test_unknown_tamper_kind_is_refused(emulator):
    """Only the documented kinds can be armed."""
    with pytest.raises(requests.HTTPError) as caught:
        emulator.tamper_next_id_token("made_up")
    assert caught.value.response.status_code == 400 and "wrong_issuer" in caught.value.response.json()["message"]


def test_tamper_applies_to_the_next_id_token_only(emulator):
    """An armed kind breaks exactly one id token; the next sign-in gets an honest one."""
    emulator.tamper_next_id_token("wrong_issuer")
    tampered = jwt.decode(id_token_of_a_sign_in(emulator), options={"verify_signature": False})
    honest = jwt.decode(id_token_of_a_sign_in(emulator), options={"verify_signature": False})
    assert tampered["iss"] == f"https://login.microsoftonline.com/{FOREIGN_TENANT}/v2.0"
    assert honest["iss"] == f"{emulator.info['authority_host']}/{emulator.tenant_id}/v2.0"
    assert tampered["tid"] == honest["tid"] == emulator.tenant_id


@pytest.mark.parametrize("kind, alg", [("alg_none", "none"), ("hs256_public_key", "HS256"), ("unknown_kid", "RS256")])
def test_forged_headers_are_what_their_names_say(emulator, kind, alg):
    """alg=none carries no signature, HS256 is keyed with the public key, unknown_kid names an unpublished key."""
    emulator.tamper_next_id_token(kind)
    raw = id_token_of_a_sign_in(emulator)
    header = jwt.get_unverified_header(raw)
    assert header["alg"] == alg and (raw.endswith(".") == (kind == "alg_none"))
    assert (header["kid"] in published_kids(emulator)) == (kind != "unknown_kid")


def test_every_kind_is_documented():
    """The README lists each kind the control API accepts."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "emulator" / "README.md").read_text()
    assert all(f"`{kind}`" in readme for kind in KINDS)


def test_key_rollover_keeps_old_keys_published_and_valid(emulator, graph):
    """After a rotation new tokens carry the new kid; the old key stays published and its tokens still work."""
    before = published_kids(emulator)
    new_kid = emulator.rotate_signing_key()
    assert new_kid not in before and published_kids(emulator) == before | {new_kid}
    assert graph.get(f"{graph.base}/users?$top=1").status_code == 200  # token signed before the rotation
    assert jwt.get_unverified_header(id_token_of_a_sign_in(emulator))["kid"] == new_kid
