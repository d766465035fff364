"""Test-only broken id tokens: each kind breaks one thing a relying party must check (signature, key, claims).

The control API (PUT /_emulator/id-token-tamper) arms one kind for the next id token the token endpoint issues,
so a client's validation can be tested against a real Microsoft-shaped answer over HTTPS.
"""
import base64
import hashlib
import hmac
import json
import secrets
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FOREIGN_CLIENT = "11111111-2222-3333-4444-555555555555"
FOREIGN_TENANT = "99999999-8888-7777-6666-555555555555"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unsigned(header: dict, claims: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _stranger_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _signed(claims, key, kid) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


def _hs256_with_public_key(claims, key, kid) -> str:
    """The classic algorithm-confusion forgery: HMAC keyed with the RSA public key's PEM, which anyone can fetch."""
    secret = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    body = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, claims)
    return f"{body}.{_b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())}"


def _garbage_signature(claims, key, kid) -> str:
    head, payload, _ = _signed(claims, key, kid).split(".")
    return f"{head}.{payload}.{_b64(secrets.token_bytes(48))}"  # random bytes, too short to be an RS256 signature


def _claims_changed(**changes):
    def build(claims, key, kid):
        now = int(time.time())
        changed = {k: (v(now) if callable(v) else v) for k, v in changes.items()}
        merged = {k: v for k, v in {**claims, **changed}.items() if v is not None}
        return _signed(merged, key, kid)
    return build


def _foreign_azp(claims, key, kid) -> str:
    """Our client id is among the audiences, but another app is the authorised party."""
    return _signed({**claims, "aud": [claims["aud"], FOREIGN_CLIENT], "azp": FOREIGN_CLIENT}, key, kid)


KINDS = {
    "foreign_key": lambda claims, key, kid: _signed(claims, _stranger_key(), kid),  # our kid, someone else's key
    "unknown_kid": lambda claims, key, kid: _signed(claims, _stranger_key(), "unpublished-" + secrets.token_hex(8)),
    "alg_none": lambda claims, key, kid: _unsigned({"alg": "none", "typ": "JWT", "kid": kid}, claims) + ".",
    "hs256_public_key": _hs256_with_public_key,
    "garbage_signature": _garbage_signature,
    "wrong_issuer": _claims_changed(iss=f"https://login.microsoftonline.com/{FOREIGN_TENANT}/v2.0"),
    "expired": _claims_changed(iat=lambda now: now - 7200, nbf=lambda now: now - 7200, exp=lambda now: now - 3600),
    "not_yet_valid": _claims_changed(nbf=lambda now: now + 3600),
    "foreign_azp": _foreign_azp,
    "wrong_audience": _claims_changed(aud=FOREIGN_CLIENT),
    "no_tid": _claims_changed(tid=None),
    "no_oid": _claims_changed(oid=None),
    "wrong_nonce": _claims_changed(nonce=hashlib.sha256(b"someone else's sign-in").hexdigest()),
}


def tampered_id_token(kind: str, claims: dict, key, kid: str) -> str:
    """The id token for `claims`, broken in the way `kind` names (signed with `key`/`kid` where it stays signed)."""
    return KINDS[kind](claims, key, kid)
