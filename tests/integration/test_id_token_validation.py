"""ID tokens are validated against the tenant's published keys and claims: each broken token the emulator can
issue is refused with its own page and audit reason, and nobody is signed in; a key rollover is followed once."""
import pytest
import sqlalchemy as sa

from portal.entra import signing_keys
from portal.exceptions import FAILURES
from portal.models import AuditEvent, DeviceSession
from tests import sso
from tests.conftest import csrf_from
from tests.integration.test_sso import PASSWORD, failure_kind, resync

VARIANTS = [  # emulator tamper kind, failure kind (page), what the audit detail says
    ("foreign_key", "token_signature", "signature does not verify with the published key (signed by another key)"),
    ("unknown_kid", "token_signature", "is not among the tenant's published keys"),
    ("alg_none", "token_signature", "alg 'none' refused: only RS256 is accepted"),
    ("hs256_public_key", "token_signature", "alg 'HS256' refused: only RS256 is accepted"),
    ("garbage_signature", "token_signature", "signature is 48 bytes where the published key signs 256: garbage"),
    ("wrong_issuer", "token_issuer", "is not the tenant's"),
    ("expired", "token_expired", "exp is in the past (leeway 120 s)"),
    ("not_yet_valid", "token_not_yet_valid", "The token is not yet valid (nbf) (leeway 120 s)"),
    ("foreign_azp", "token_audience", "and azp '11111111-2222-3333-4444-555555555555' is not this client"),
    ("wrong_audience", "token_audience", "aud does not name this client (MSAL)"),
    ("no_tid", "token_claims", "no tid claim"),
    ("no_oid", "token_claims", "no oid claim"),
    ("wrong_nonce", "token_nonce", "nonce does not match this browser's sign-in (MSAL)"),
]


@pytest.fixture(autouse=True)
def _cold_key_cache(emulator):
    """Each test starts with no cached issuer or keys, and leaves none behind, with no tamper left armed."""
    signing_keys.forget_all_keys()
    yield
    emulator.tamper_next_id_token(None)
    signing_keys.forget_all_keys()


@pytest.fixture
def person(app, synced, new_user):
    """A Microsoft user who is a synced, active requester."""
    user = new_user()
    resync(app, synced)
    return user


def answer_with(client, integration, person, emulator, tamper=None):
    """A real sign-in whose token response carries an id token broken the `tamper` way; the portal's final page."""
    start = sso.begin(client, integration)
    fields, _ = sso.microsoft_answer(start.headers["Location"], person["userPrincipalName"], PASSWORD)
    if tamper:
        emulator.tamper_next_id_token(tamper)
    return sso.finish(client, fields)


def failures(db) -> list:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "requester.sign_in_failed")))


def assert_nobody_signed_in(client, db):
    assert client.get("/home").status_code == 302
    with client.session_transaction() as stored:
        assert "_user_id" not in stored and "device_id" not in stored
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeviceSession)) == 0
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "requester.sign_in")) is None


def sign_out(client):
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/home").get_data(as_text=True))})


def test_the_variants_have_distinct_audit_reasons():
    """Every broken token leaves a different audit detail, so the log tells them apart."""
    assert len({detail for _, _, detail in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize("tamper, kind, detail", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_broken_id_token_is_refused_with_its_page_and_audit_reason(client, synced, person, emulator, db,
                                                                  tamper, kind, detail):
    """A tampered, foreign, stale or incomplete id token gets its own page and audit reason; nobody is signed in."""
    response = answer_with(client, synced, person, emulator, tamper)
    body = response.get_data(as_text=True)
    assert failure_kind(response) == kind and response.status_code == FAILURES[kind].status
    assert FAILURES[kind].title in body.replace("&#39;", "'")
    [event] = failures(db)
    assert event.reason == kind and detail in event.detail["detail"]
    assert_nobody_signed_in(client, db)


def test_valid_id_token_still_signs_in_reading_the_keys_once(client, synced, person, emulator, db):
    """An untampered token signs in; a cold cache reads the JWKS once and a warm one not at all."""
    before = emulator.stats()["jwks_requests"]
    assert answer_with(client, synced, person, emulator).headers["Location"] == "/home"
    assert emulator.stats()["jwks_requests"] - before == 1
    sign_out(client)
    assert answer_with(client, synced, person, emulator).headers["Location"] == "/home"
    assert emulator.stats()["jwks_requests"] - before == 1
    assert failures(db) == []


def test_key_rollover_is_fetched_once_then_accepted(client, synced, person, emulator):
    """After Microsoft starts signing with a new key, the unknown kid rereads the JWKS exactly once, and signs in."""
    assert answer_with(client, synced, person, emulator).headers["Location"] == "/home"
    sign_out(client)
    new_kid = emulator.rotate_signing_key()
    before = emulator.stats()["jwks_requests"]
    assert answer_with(client, synced, person, emulator).headers["Location"] == "/home"
    assert emulator.stats()["jwks_requests"] - before == 1
    sign_out(client)
    assert answer_with(client, synced, person, emulator).headers["Location"] == "/home"
    assert emulator.stats()["jwks_requests"] - before == 1
    assert new_kid in {k["kid"] for k in emulator.http.get(
        f"{emulator.info['authority_host']}/{emulator.tenant_id}/discovery/v2.0/keys").json()["keys"]}


def test_unpublished_kid_rereads_once_then_is_refused_without_hammering(client, synced, person, emulator, db):
    """A kid the tenant never published costs one JWKS reread and is refused; the next one within the interval, none."""
    assert answer_with(client, synced, person, emulator).headers["Location"] == "/home"
    sign_out(client)
    before = emulator.stats()["jwks_requests"]
    assert failure_kind(answer_with(client, synced, person, emulator, "unknown_kid")) == "token_signature"
    assert emulator.stats()["jwks_requests"] - before == 1
    assert failure_kind(answer_with(client, synced, person, emulator, "unknown_kid")) == "token_signature"
    assert emulator.stats()["jwks_requests"] - before == 1
    assert [e.reason for e in failures(db)] == ["token_signature", "token_signature"]


def test_keys_unreachable_gives_retry_page_not_counted(client, synced, person, emulator, db, monkeypatch):
    """If the tenant's keys cannot be read, the person sees the 503 retry page and no failure is counted."""
    def refuse(url):
        raise signing_keys.requests.exceptions.ConnectionError("no route")
    monkeypatch.setattr(signing_keys, "_https_fetcher", lambda ca_bundle: refuse)
    response = answer_with(client, synced, person, emulator)
    assert response.status_code == 503 and failure_kind(response) == "unavailable"
    [event] = failures(db)
    assert event.reason == "unavailable" and "ConnectionError" in event.detail["detail"]
    assert_nobody_signed_in(client, db)
