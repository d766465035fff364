"""The discovery and JWKS cache without a network: one read per authority, a rate-limited reread on unknown kids."""
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from portal.entra.signing_keys import MIN_REFETCH_INTERVAL, REFRESH_AFTER, KeyCache, discovery_url, parse_jwks
from portal.exceptions import SignInFailed

AUTHORITY = "https://login.example.test/contoso"
JWKS_URI = "https://login.example.test/contoso/keys"
OLD = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NEW = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(kid, key, **extra) -> dict:
    return dict(RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), kid=kid, use="sig", **extra)


class Provider:
    """A fake tenant: serves discovery and a JWKS that tests can rotate, and counts the reads."""

    def __init__(self):
        self.keys, self.reads, self.now = [jwk("old", OLD)], [], 1000.0
        self.down = False

    def fetch(self, url):
        self.reads.append(url)
        if self.down:
            raise requests.exceptions.ConnectionError("down")
        if url == discovery_url(AUTHORITY):
            return {"issuer": "https://issuer.test/t/v2.0", "jwks_uri": JWKS_URI}
        assert url == JWKS_URI
        return {"keys": list(self.keys)}

    def jwks_reads(self) -> int:
        return self.reads.count(JWKS_URI)


@pytest.fixture
def provider():
    return Provider()


@pytest.fixture
def cache(provider):
    return KeyCache(provider.fetch, clock=lambda: provider.now)


def test_discovery_and_keys_are_read_once_per_authority(cache, provider):
    """Known kids are served from memory: one discovery and one JWKS read however many tokens arrive."""
    for _ in range(5):
        assert cache.key(AUTHORITY, "old") is not None
    assert provider.reads == [discovery_url(AUTHORITY), JWKS_URI]
    assert cache.tenant(AUTHORITY).issuer == "https://issuer.test/t/v2.0"


def test_rotated_key_is_found_with_exactly_one_reread(cache, provider):
    """An unknown kid rereads the JWKS once; the rotated-in key is then known without further reads."""
    cache.key(AUTHORITY, "old")
    provider.keys.append(jwk("new", NEW))
    assert cache.key(AUTHORITY, "new") is not None and provider.jwks_reads() == 2
    assert cache.key(AUTHORITY, "new") is not None and provider.jwks_reads() == 2


def test_unknown_kids_cannot_hammer_the_endpoint(cache, provider):
    """A forged kid costs one reread; more within MIN_REFETCH_INTERVAL cost none; after it, one more."""
    cache.key(AUTHORITY, "old")
    assert [cache.key(AUTHORITY, f"forged-{i}") for i in range(20)] == [None] * 20
    assert provider.jwks_reads() == 2
    provider.now += MIN_REFETCH_INTERVAL - 1
    assert cache.key(AUTHORITY, "forged") is None and provider.jwks_reads() == 2
    provider.now += 1
    assert cache.key(AUTHORITY, "forged") is None and provider.jwks_reads() == 3


def test_keys_are_reread_daily(cache, provider):
    """After REFRESH_AFTER the discovery document and keys are read again, picking up a rollover unasked."""
    cache.key(AUTHORITY, "old")
    provider.keys = [jwk("new", NEW)]
    provider.now += REFRESH_AFTER
    assert cache.key(AUTHORITY, "new") is not None
    assert provider.reads.count(discovery_url(AUTHORITY)) == 2 and provider.jwks_reads() == 2


def test_network_failure_is_unavailable_and_not_counted(cache, provider):
    """An unreachable tenant is the 'unavailable' kind (try again), never counted against the person."""
    provider.down = True
    with pytest.raises(SignInFailed) as caught:
        cache.key(AUTHORITY, "old")
    assert caught.value.code == "unavailable" and caught.value.counted is False
    assert "openid-configuration" in caught.value.reason and "ConnectionError" in caught.value.reason


@pytest.mark.parametrize("doc", [{"jwks_uri": JWKS_URI}, {"issuer": "x", "jwks_uri": "http://plain/keys"}, ["x"]])
def test_a_broken_discovery_document_is_unavailable(doc):
    """Discovery without an issuer or an https jwks_uri is not used."""
    with pytest.raises(SignInFailed) as caught:
        KeyCache(lambda url: doc).tenant(AUTHORITY)
    assert caught.value.code == "unavailable"


def test_parse_jwks_keeps_only_usable_rsa_signing_keys():
    """Encryption keys, other key types, missing kids and broken entries are skipped, not fatal."""
    doc = {"keys": [jwk("good", OLD), jwk("enc", NEW, **{}) | {"use": "enc"}, {"kty": "EC", "kid": "ec"},
                    {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}, dict(jwk("x", NEW), kid=None), "junk"]}
    assert list(parse_jwks(doc)) == ["good"]
    with pytest.raises(ValueError):
        parse_jwks({"nokeys": []})
