"""Requester sign-in with Microsoft: MSAL auth-code flow (PKCE, state, nonce) and every way it can fail.

No Flask imports: views pass in what they read from the request and keep the flow in the session.
"""
import hashlib
import json
import logging
import re
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import msal
import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from msal.oauth2cli.oidc import IdTokenAudienceError, IdTokenIssuerError

from portal import signals
from portal.database import db
from portal.entra import credentials, id_tokens, signing_keys
from portal.entra.credentials import AppCredentials
from portal.entra.http import MicrosoftSession
from portal.exceptions import SignInFailed
from portal.lockout import LockoutPolicy, count_failure, is_locked, register_success
from portal.models import Integration, Requester

log = logging.getLogger("portal.sso")
SCOPES = ["User.Read"]
CALLBACK_TTL = 120  # seconds a sealed callback may take to come back from the browser
MAX_PENDING_FLOWS = 5
AADSTS_NUMBER = re.compile(r"AADSTS(\d+)\b")  # Microsoft numbers errors with 5 to 7 digits
AADSTS_KINDS = {"50105": "not_assigned", "50057": "disabled_at_microsoft", "50053": "locked_at_microsoft",
                "65001": "consent_required", "65004": "cancelled"}


def _app(integration: Integration, creds: AppCredentials) -> msal.ConfidentialClientApplication:
    return credentials.confidential_client(creds)  # one cached client per credential set, shared with app-only calls


def begin_auth_code_flow(integration: Integration, creds: AppCredentials, redirect_uri: str, login_hint: str | None = None,
                         prompt: str | None = None) -> dict:
    """Begin the auth-code flow (PKCE S256, state, nonce; response_mode=form_post); a work email given first goes to
    Microsoft as login_hint, and its domain as domain_hint, so the person lands on their own organisation's page."""
    if integration.status != "verified":
        raise SignInFailed("integration_unavailable", counted=False)
    try:
        return _app(integration, creds).initiate_auth_code_flow(
            SCOPES, redirect_uri=redirect_uri, response_mode="form_post", login_hint=login_hint or None,
            domain_hint=login_hint.rsplit("@", 1)[1] if login_hint else None,
            prompt=prompt or (None if login_hint else "select_account"), max_age=0 if prompt == "login" else None)
    except (requests.exceptions.RequestException, ValueError) as exc:
        raise SignInFailed("unavailable", reason=exc.__class__.__name__, counted=False) from exc


def seal_callback(params: dict, key: str) -> str:
    """Encrypt the form_post answer so it can cross the redirect back to our own site (2-minute life)."""
    fields = {k: v for k, v in params.items() if k in ("code", "state", "error", "error_description", "error_uri",
                                                         "session_state", "client_info")}
    return Fernet(key.encode()).encrypt(json.dumps(fields).encode()).decode()


def unseal_callback(token: str, key: str) -> dict:
    """Decrypt a sealed answer; expired or altered ones are refused."""
    try:
        return json.loads(Fernet(key.encode()).decrypt(token.encode(), ttl=CALLBACK_TTL))
    except (InvalidToken, ValueError, TypeError) as exc:
        raise SignInFailed("expired_callback") from exc


def microsoft_error(params: dict) -> SignInFailed | None:
    """Map an `error` answer from Microsoft to its failure kind, keeping the description for the log."""
    error = params.get("error")
    if not error:
        return None
    description = str(params.get("error_description") or "")[:500]
    number = AADSTS_NUMBER.match(description)
    kind = AADSTS_KINDS.get(number.group(1) if number else "") or {"access_denied": "cancelled", "consent_required": "consent_required",
                                      "interaction_required": "interaction_required", "login_required": "interaction_required"
                                      }.get(str(error), "microsoft_error")
    return SignInFailed(kind, reason=f"{str(error)[:80]}: {description}")


def redeem(integration: Integration, creds: AppCredentials, flow: dict, params: dict) -> dict:
    """Redeem the code through MSAL (state, PKCE), then validate the raw ID token ourselves; return its claims."""
    if not params.get("code"):
        raise SignInFailed("missing_code")
    try:
        result = _app(integration, creds).acquire_token_by_auth_code_flow(flow, params, scopes=SCOPES)
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise SignInFailed("unavailable", reason=exc.__class__.__name__, counted=False) from exc
    except ValueError as exc:  # MSAL: state mismatch
        raise SignInFailed("state_mismatch", reason=str(exc)[:200]) from exc
    except (RuntimeError, KeyError, IndexError, TypeError) as exc:  # MSAL's own partial id token checks, or a mangled token
        raise _msal_refusal(exc) from exc
    if "error" in result:
        codes = result.get("error_codes") or []
        raise SignInFailed("expired_callback" if 54005 in codes or 70008 in codes else "microsoft_error",
                           reason=f"{result.get('error')}: {str(result.get('error_description'))[:300]}")
    # MSAL's id_token_claims are decoded without a signature check: only the raw token is trusted, once validated.
    expectation = id_tokens.Expectation(creds.client_id, integration.directory_tenant_id or integration.tenant_id,
                                        _token_nonce(flow))
    return id_tokens.validate_id_token(result.get("id_token") or "", expectation, signing_keys.cache_for(creds.endpoints.ca_bundle),
                              creds.endpoints.authority(creds.tenant))


def _token_nonce(flow: dict) -> str:
    """MSAL sends the SHA-256 hex of the flow's nonce to Microsoft, so that is what the ID token carries."""
    return hashlib.sha256(str(flow.get("nonce") or "").encode()).hexdigest()


def _msal_refusal(exc: Exception) -> SignInFailed:
    """MSAL raises before we see the token when aud, iss or nonce are wrong; keep the same kinds as our checks."""
    if isinstance(exc, IdTokenAudienceError):
        return SignInFailed("token_audience", reason="aud does not name this client (MSAL)")
    if isinstance(exc, IdTokenIssuerError):
        return SignInFailed("token_issuer", reason="iss is not the tenant's issuer (MSAL)")
    if isinstance(exc, RuntimeError) and "nonce" in str(exc).lower():
        return SignInFailed("token_nonce", reason="nonce does not match this browser's sign-in (MSAL)")
    return SignInFailed("invalid_response", reason=f"{exc.__class__.__name__}: {exc}"[:200])


def admit(integration: Integration, claims: dict, policy: LockoutPolicy, now: datetime | None = None,
          known_requester_id: int | None = None) -> Requester:
    """Check tenant and requester (known, active, not locked); on success reset the failure count. A browser this
    requester signed in from before (`known_requester_id`) passes a lock without lifting it for anyone else."""
    now = now or datetime.now(UTC)
    expected_tenant = integration.directory_tenant_id or integration.tenant_id
    if claims.get("tid") != expected_tenant:
        raise SignInFailed("wrong_tenant", reason=f"tid {claims.get('tid')}")
    requester = db.session.scalar(sa.select(Requester).where(Requester.integration_id == integration.id,
                                                             Requester.entra_object_id == claims["oid"]))
    if requester is None:
        raise SignInFailed("not_synced", reason=f"oid {claims['oid']}")
    locked = is_locked(requester, now)
    if locked and known_requester_id != requester.id:
        raise SignInFailed("locked", requester=requester, until=requester.locked_until, counted=False)
    if requester.status != "active":
        # Microsoft accepted the password: a refused sign-in is not a failed one, so it never counts towards lockout.
        raise SignInFailed("portal_disabled" if requester.status == "disabled" else "portal_deleted", requester=requester,
                           counted=False)
    if not locked:
        register_success(requester)
    requester.last_signed_in_at = now
    return requester


def record_failure(exc: SignInFailed, policy: LockoutPolicy, now: datetime | None = None) -> None:
    """Audit the failure and count it against the requester when known; commits."""
    now = now or datetime.now(UTC)
    requester = exc.requester
    target = signals.Target("requester", str(requester.id), requester.label) if requester else None
    signals.sign_in_failed.send("sso", actor=signals.Principal.of(requester) if requester else signals.ANONYMOUS,
                                target=target, outcome="failure", reason=exc.code,
                                detail={"detail": (exc.reason or "")[:300]})
    until = count_failure(Requester, requester.id, now, policy) if requester is not None and exc.counted else None
    if until:
        signals.requester_locked_out.send("sso", actor=signals.SYSTEM, target=target, outcome="failure",
                                          reason="too many failed sign-ins", detail={"locked_until": until.isoformat()})
    db.session.commit()
    if requester is not None:
        db.session.expire(requester)  # the count changed in the database, not on this object


def prune_flows(flows: dict) -> dict:
    """Keep the newest few pending flows (one per open sign-in tab), dropping ones older than 15 minutes."""
    now = time.time()
    live = {k: v for k, v in flows.items() if now - v.get("started", 0) < 900}
    return dict(sorted(live.items(), key=lambda kv: kv[1]["started"])[-MAX_PENDING_FLOWS:])


_end_session_cache: dict = {}


def end_session_url(creds: AppCredentials, post_logout_redirect_uri: str) -> str | None:
    """Microsoft's end-session endpoint from the tenant's OIDC discovery document (cached), or None."""
    authority = creds.endpoints.authority(creds.tenant)
    if authority not in _end_session_cache:
        try:
            doc = MicrosoftSession(creds.endpoints.ca_bundle).get(f"{authority}/v2.0/.well-known/openid-configuration",
                                                                  timeout=5).json()
            _end_session_cache[authority] = doc.get("end_session_endpoint")
        except (requests.exceptions.RequestException, ValueError):
            return None
    endpoint = _end_session_cache[authority]
    return f"{endpoint}?{urlencode({'post_logout_redirect_uri': post_logout_redirect_uri})}" if endpoint else None
