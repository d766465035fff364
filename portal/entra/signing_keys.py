"""The tenant's OIDC discovery (issuer, jwks_uri) and published signing keys, cached per authority.

Keys are reread daily; an ID token with an unknown `kid` may force one early reread (a key rollover), but at most
once per MIN_REFETCH_INTERVAL per authority, so forged tokens cannot make us hammer Microsoft's endpoint.
"""
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt
import requests

from portal.entra.http import MicrosoftSession
from portal.exceptions import SignInFailed

REFRESH_AFTER = 24 * 3600  # seconds: reread discovery and keys daily even if every kid is known
MIN_REFETCH_INTERVAL = 300  # seconds between early rereads of one authority's keys (unknown kid)
FETCH_TIMEOUT = (5, 10)  # connect, read: a person is waiting on the sign-in


@dataclass
class TenantKeys:
    """One authority's issuer, key endpoint and published RS256 keys, and when they were read."""

    issuer: str
    jwks_uri: str
    keys: dict  # kid -> public key
    fetched_at: float
    refetched_at: float = -math.inf
    lock: threading.Lock = field(default_factory=threading.Lock)


def parse_jwks(document) -> dict:
    """kid -> public key for each usable RSA signing key in a JWKS; malformed or foreign entries are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("JWKS without a keys list")
    keys = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            continue
        if not isinstance(jwk.get("kid"), str):
            continue
        try:
            keys[jwk["kid"]] = jwt.PyJWK(jwk, algorithm="RS256").key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return keys


def discovery_url(authority: str) -> str:
    """Where the tenant's OpenID configuration lives (v2.0 endpoint)."""
    return f"{authority}/v2.0/.well-known/openid-configuration"


class KeyCache:
    """Discovery and JWKS per authority, read through `fetch_json(url)` (injectable for tests)."""

    def __init__(self, fetch_json: Callable[[str], object], clock: Callable[[], float] = time.monotonic):
        self._fetch_json, self._clock = fetch_json, clock
        self._tenants: dict[str, TenantKeys] = {}
        self._lock = threading.Lock()

    def tenant(self, authority: str) -> TenantKeys:
        """The cached issuer and keys, read (again) when missing or older than REFRESH_AFTER."""
        with self._lock:
            cached = self._tenants.get(authority)
            if cached is None or self._clock() - cached.fetched_at >= REFRESH_AFTER:
                cached = self._tenants[authority] = self._read(authority)
            return cached

    def key(self, authority: str, kid: str):
        """The public key for `kid`, rereading the JWKS once if it is unknown and the interval allows; else None."""
        tenant = self.tenant(authority)
        if kid in tenant.keys:
            return tenant.keys[kid]
        with tenant.lock:
            now = self._clock()
            if kid not in tenant.keys and now - tenant.refetched_at >= MIN_REFETCH_INTERVAL:
                tenant.refetched_at = now
                tenant.keys = self._fetch(tenant.jwks_uri, parse_jwks, authority)
        return tenant.keys.get(kid)

    def _read(self, authority: str) -> TenantKeys:
        doc = self._fetch(discovery_url(authority), _discovery_fields, authority)
        return TenantKeys(doc["issuer"], doc["jwks_uri"], self._fetch(doc["jwks_uri"], parse_jwks, authority),
                          self._clock())

    def _fetch(self, url: str, parse: Callable, authority: str):
        try:
            return parse(self._fetch_json(url))
        except (requests.exceptions.RequestException, ValueError, KeyError, TypeError) as exc:
            raise SignInFailed("unavailable", reason=f"reading {url.rsplit('/', 1)[-1]} for {authority}: "
                               f"{exc.__class__.__name__}", counted=False) from exc


def _discovery_fields(doc) -> dict:
    """The two fields we rely on, checked: a string issuer and an https jwks_uri."""
    if not isinstance(doc, dict) or not isinstance(doc.get("issuer"), str) or not doc["issuer"]:
        raise ValueError("discovery document without issuer")
    if not isinstance(doc.get("jwks_uri"), str) or not doc["jwks_uri"].startswith("https://"):
        raise ValueError("discovery document without an https jwks_uri")
    return doc


def _https_fetcher(ca_bundle: str | None) -> Callable[[str], object]:
    """GET and parse JSON over a MicrosoftSession (public roots plus ENTRA_CA_BUNDLE)."""
    session = MicrosoftSession(ca_bundle)

    def fetch_json(url: str):
        response = session.get(url, timeout=FETCH_TIMEOUT)
        response.raise_for_status()
        return response.json()
    return fetch_json


_caches: dict = {}
_caches_lock = threading.Lock()


def cache_for(ca_bundle: str | None) -> KeyCache:
    """The process-wide key cache for endpoints trusted through `ca_bundle`."""
    with _caches_lock:
        if ca_bundle not in _caches:
            _caches[ca_bundle] = KeyCache(_https_fetcher(ca_bundle))
        return _caches[ca_bundle]


def forget_all_keys() -> None:
    """Drop every cached issuer and key (tests, and after an operator changes endpoints)."""
    with _caches_lock:
        _caches.clear()
