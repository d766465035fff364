"""ID token validation without a network: keys made here, a fake JWKS behind a KeyCache, every check in turn."""
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from portal.entra import id_tokens
from portal.entra.id_tokens import LEEWAY, Expectation, issuer_for, validate_id_token
from portal.entra.signing_keys import KeyCache
from portal.exceptions import SignInFailed

AUTHORITY = "https://login.example.test/contoso"
CLIENT, TENANT, OTHER = "client-1", "tenant-1", "client-2"
ISSUER = f"https://login.example.test/{TENANT}/v2.0"
NONCE = hashlib.sha256(b"flow nonce").hexdigest()
EXPECT = Expectation(CLIENT, TENANT, NONCE)
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks(*pairs) -> dict:
    return {"keys": [dict(RSAAlgorithm.to_jwk(k.public_key(), as_dict=True), kid=kid, use="sig") for kid, k in pairs]}


def cache(issuer=ISSUER) -> KeyCache:
    docs = {f"{AUTHORITY}/v2.0/.well-known/openid-configuration": {"issuer": issuer, "jwks_uri": "https://keys.test/k"},
            "https://keys.test/k": jwks(("k1", KEY))}
    return KeyCache(docs.__getitem__)


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": CLIENT, "iat": now, "nbf": now, "exp": now + 3600, "tid": TENANT, "oid": "oid-1",
            "sub": "sub-1", "nonce": NONCE}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def token(key=KEY, kid="k1", **changes) -> str:
    return jwt.encode(claims(**changes), key, algorithm="RS256", headers={"kid": kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned(alg: str, signature: bytes = b"") -> str:
    body = f"{b64(json.dumps({'alg': alg, 'kid': 'k1'}).encode())}.{b64(json.dumps(claims()).encode())}"
    return f"{body}.{b64(signature)}"


def hs256_with_public_key() -> str:
    pem = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    body = unsigned("HS256").rsplit(".", 1)[0]
    return f"{body}.{b64(hmac.new(pem, body.encode(), hashlib.sha256).digest())}"


def refusal(raw: str, expectation=EXPECT, keys=None) -> SignInFailed:
    with pytest.raises(SignInFailed) as caught:
        validate_id_token(raw, expectation, keys or cache(), AUTHORITY)
    return caught.value


def test_a_valid_token_gives_its_claims():
    """A token signed by the published key with the expected claims is accepted as it was signed."""
    assert validate_id_token(token(), EXPECT, cache(), AUTHORITY)["oid"] == "oid-1"


BROKEN = {  # name: (token maker, failure kind, words in the audit reason)
    "foreign_key": (lambda: token(key=STRANGER), "token_signature", "signed by another key"),
    "unknown_kid": (lambda: token(key=STRANGER, kid="k9"), "token_signature", "'k9' is not among the tenant's published keys"),
    "alg_none": (lambda: unsigned("none"), "token_signature", "alg 'none' refused"),
    "hs256_public_key": (hs256_with_public_key, "token_signature", "alg 'HS256' refused"),
    "garbage_signature": (lambda: token().rsplit(".", 1)[0] + "." + b64(b"x" * 40), "token_signature", "signature is 40 bytes"),
    "not_a_jwt": (lambda: "not-a-jwt", "token_signature", "not a signed JWT"),
    "wrong_issuer": (lambda: token(iss="https://login.example.test/evil/v2.0"), "token_issuer", "is not the tenant's"),
    "no_issuer": (lambda: token(iss=None), "token_issuer", "iss 'None'"),
    "expired": (lambda: token(exp=int(time.time()) - LEEWAY - 60), "token_expired", "exp is in the past"),
    "nbf_future": (lambda: token(nbf=int(time.time()) + LEEWAY + 60), "token_not_yet_valid", "(nbf)"),
    "iat_future": (lambda: token(iat=int(time.time()) + LEEWAY + 60), "token_not_yet_valid", "(iat)"),
    "no_exp": (lambda: token(exp=None), "token_claims", "no exp claim"),
    "wrong_audience": (lambda: token(aud=OTHER), "token_audience", "aud does not name this client"),
    "foreign_azp": (lambda: token(aud=[CLIENT, OTHER], azp=OTHER), "token_audience", f"azp '{OTHER}'"),
    "aud_list_without_azp": (lambda: token(aud=[CLIENT, OTHER]), "token_audience", "there is no azp"),
    "foreign_azp_single_aud": (lambda: token(azp=OTHER), "token_audience", f"azp '{OTHER}'"),
    "wrong_nonce": (lambda: token(nonce="replayed"), "token_nonce", "nonce does not match"),
    "no_nonce": (lambda: token(nonce=None), "token_nonce", "no nonce claim"),
    "no_oid": (lambda: token(oid=None), "token_claims", "no oid claim"),
    "no_tid": (lambda: token(tid=None), "token_claims", "no tid claim"),
    "other_tenant": (lambda: token(tid="tenant-2"), "wrong_tenant", "tid tenant-2"),
}


@pytest.mark.parametrize("name", BROKEN)
def test_each_broken_token_is_refused_with_its_kind_and_reason(name):
    """Each way a token can be forged, stale, foreign or incomplete has its own failure kind and reason."""
    make, kind, reason = BROKEN[name]
    failed = refusal(make())
    assert failed.code == kind and reason in failed.reason


def test_clock_skew_within_the_leeway_is_tolerated():
    """exp just passed, nbf and iat just ahead (under LEEWAY) are accepted: clocks drift a little."""
    now = int(time.time())
    near = token(exp=now - LEEWAY + 30, nbf=now + LEEWAY - 30, iat=now + LEEWAY - 30)
    assert validate_id_token(near, EXPECT, cache(), AUTHORITY)["tid"] == TENANT


def test_audience_list_with_our_azp_is_accepted():
    """A multi-audience token whose authorised party is us is fine."""
    assert validate_id_token(token(aud=[CLIENT, OTHER], azp=CLIENT), EXPECT, cache(), AUTHORITY)["azp"] == CLIENT


def test_issuer_template_is_filled_with_the_tenant():
    """Discovery for common/organizations publishes {tenantid}; a concrete issuer is used as is."""
    assert issuer_for("https://login.example.test/{tenantid}/v2.0", TENANT) == ISSUER
    assert issuer_for(ISSUER, "other") == ISSUER
    keys = cache(issuer="https://login.example.test/{tenantid}/v2.0")
    assert validate_id_token(token(), EXPECT, keys, AUTHORITY)["iss"] == ISSUER


def test_only_rs256_is_named_as_the_algorithm():
    """The accepted algorithm is RS256 and nothing else."""
    assert id_tokens.ALGORITHM == "RS256"
    assert refusal(jwt.encode(claims(), STRANGER, algorithm="RS512", headers={"kid": "k1"})).code == "token_signature"
