"""Full validation of a Microsoft ID token, because MSAL for Python does not do it: RS256 signature by a key the
tenant publishes, lifetime, audience and authorised party, nonce, object and tenant ids, and the issuer.

Every refusal is a SignInFailed whose kind picks the page and whose `reason` says exactly what failed (audit).
"""
import base64
import hmac
from dataclasses import dataclass

import jwt

from portal.entra.signing_keys import KeyCache
from portal.exceptions import SignInFailed

ALGORITHM = "RS256"  # what Entra signs ID tokens with; anything else (none, HS256 ...) is refused before any key use
LEEWAY = 120  # seconds of clock skew allowed on exp, nbf and iat (Microsoft advises a small allowance; MSAL uses 2 min)


@dataclass(frozen=True)
class Expectation:
    """What a valid ID token for this sign-in must say."""

    client_id: str
    tenant_id: str
    nonce: str  # as it appears in the token: MSAL sends the SHA-256 hex of the flow's nonce


def validate_id_token(id_token: str, expectation: Expectation, keys: KeyCache, authority: str) -> dict:
    """The verified claims of `id_token`, or SignInFailed naming the first check it failed."""
    kid = signing_kid(id_token)
    tenant = keys.tenant(authority)
    key = keys.key(authority, kid)
    if key is None:
        raise SignInFailed("token_signature", reason=f"kid {kid[:60]!r} is not among the tenant's published keys")
    claims = decode(id_token, key)
    check_claims(claims, expectation, issuer_for(tenant.issuer, expectation.tenant_id))
    return claims


def signing_kid(id_token: str) -> str:
    """The header's key id, after refusing any algorithm but RS256 (alg=none, HS256 keyed with the public key ...)."""
    try:
        header = jwt.get_unverified_header(id_token or "")
    except jwt.PyJWTError as exc:
        raise SignInFailed("token_signature", reason=f"not a signed JWT: {exc}"[:200]) from exc
    alg = header.get("alg")
    if alg != ALGORITHM:
        raise SignInFailed("token_signature", reason=f"alg {str(alg)[:20]!r} refused: only {ALGORITHM} is accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise SignInFailed("token_signature", reason="no kid in the token header")
    return kid


def decode(id_token: str, key) -> dict:
    """Verify the signature with `key` and the lifetime (exp, nbf, iat) with LEEWAY; audience comes after."""
    try:
        return jwt.decode(id_token, key, algorithms=[ALGORITHM], leeway=LEEWAY,
                          options={"require": ["exp", "iat", "aud"], "verify_aud": False, "verify_iss": False})
    except jwt.InvalidSignatureError as exc:
        raise SignInFailed("token_signature", reason=_signature_failure(id_token, key)) from exc
    except jwt.ExpiredSignatureError as exc:
        raise SignInFailed("token_expired", reason=f"exp is in the past (leeway {LEEWAY} s)") from exc
    except jwt.ImmatureSignatureError as exc:
        raise SignInFailed("token_not_yet_valid", reason=f"{exc} (leeway {LEEWAY} s)") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise SignInFailed("token_claims", reason=f"no {exc.claim} claim") from exc
    except jwt.DecodeError as exc:  # a part that is not base64url or JSON
        raise SignInFailed("token_signature", reason=f"malformed token: {exc}"[:200]) from exc
    except jwt.PyJWTError as exc:  # non-numeric times and the like
        raise SignInFailed("token_claims", reason=f"malformed claims: {exc}"[:200]) from exc


def _signature_failure(id_token: str, key) -> str:
    """Tell a mangled signature (wrong length for the key) from a well-formed one made with another key."""
    signature = id_token.rsplit(".", 1)[-1]
    size = len(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    if size != key.key_size // 8:
        return f"signature is {size} bytes where the published key signs {key.key_size // 8}: garbage"
    return "signature does not verify with the published key (signed by another key)"


def check_claims(claims: dict, expectation: Expectation, issuer: str) -> None:
    """Audience and authorised party, nonce, oid, tid and issuer, in that order."""
    _check_audience(claims, expectation.client_id)
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), expectation.nonce.encode()):
        raise SignInFailed("token_nonce", reason="nonce does not match this browser's sign-in" if nonce
                           else "no nonce claim")
    for claim in ("oid", "tid"):
        if not isinstance(claims.get(claim), str) or not claims[claim]:
            raise SignInFailed("token_claims", reason=f"no {claim} claim")
    if claims["tid"] != expectation.tenant_id:
        raise SignInFailed("wrong_tenant", reason=f"tid {claims['tid'][:60]}")
    if claims.get("iss") != issuer:
        raise SignInFailed("token_issuer", reason=f"iss {str(claims.get('iss'))[:100]!r} is not the tenant's {issuer}")


def _check_audience(claims: dict, client_id: str) -> None:
    """aud must be this client; when aud is a list (or azp is present), azp must be this client too."""
    aud, azp = claims.get("aud"), claims.get("azp")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        raise SignInFailed("token_audience", reason="aud does not name this client")
    if (isinstance(aud, list) or azp is not None) and azp != client_id:
        party = "there is no azp" if azp is None else f"azp {str(azp)[:60]!r} is not this client"
        raise SignInFailed("token_audience", reason=f"aud is a list or has an azp, and {party}")


def issuer_for(template: str, tenant_id: str) -> str:
    """The issuer a token for `tenant_id` must carry: discovery's, with `{tenantid}` filled in where present."""
    return template.replace("{tenantid}", tenant_id)
