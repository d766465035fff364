"""RS256 signing of id tokens and access tokens, and the JWKS that publishes the keys."""
import base64
import threading
import time
import uuid
from collections import deque

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from emulator import tampering

ACCESS_TOKEN_LIFETIME = 3599
ID_TOKEN_LIFETIME = 3600
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def new_kid() -> str:
    """A key id shaped like Microsoft's (base64url, no padding)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class TokenService:
    """Holds the signing keys; issues and validates tokens the way Entra's v2 endpoint shapes them."""

    def __init__(self):
        self._keys: dict = {}  # kid -> private key; the last one signs, all are published (as during a rollover)
        self._lock = threading.Lock()
        self.issued: deque = deque(maxlen=20000)  # every token issued, newest last (tests check none leaks)
        self._tamper: str | None = None  # test hook: how to break the next id token (emulator/tampering.py)
        self.rotate()

    @property
    def kid(self) -> str:
        """The key id that signs new tokens."""
        return next(reversed(self._keys))

    @property
    def _key(self):
        return self._keys[self.kid]

    def rotate(self) -> str:
        """Sign with a new key from now on; older keys stay published so tokens already issued still verify."""
        with self._lock:
            kid = new_kid()
            self._keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return kid

    def tamper_next_id_token(self, kind: str | None) -> None:
        """Break the next id token issued in the named way (None disarms); it applies to one token only."""
        with self._lock:
            self._tamper = kind

    def _take_tamper(self) -> str | None:
        with self._lock:
            kind, self._tamper = self._tamper, None
        return kind

    def jwks(self) -> dict:
        """The public keys as Microsoft publishes them at /discovery/v2.0/keys."""
        keys = []
        for kid, key in list(self._keys.items()):
            jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            jwk.update({"kid": kid, "use": "sig", "kty": "RSA", "x5t": kid})
            keys.append(jwk)
        return {"keys": keys}

    def _sign(self, claims: dict) -> str:
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})
        self.issued.append(token)
        return token

    def id_token(self, *, issuer, client_id, tenant_id, user, nonce, extra: dict | None = None) -> str:
        """An id token with the claims the portal checks (iss, aud, nonce, oid, tid, sub, preferred_username, name),
        plus `extra` (roles, groups or the groups overage)."""
        now = int(time.time())
        claims = {"ver": "2.0", "iss": issuer, "aud": client_id, "iat": now, "nbf": now, "exp": now + ID_TOKEN_LIFETIME,
                  "tid": tenant_id, "oid": user.id, "sub": _pairwise(user.id, client_id),
                  "preferred_username": user.props["userPrincipalName"], "name": user.props.get("displayName"),
                  "email": user.props.get("mail"), "uti": uuid.uuid4().hex[:22], "rh": "0.emulator"}
        claims.update(extra or {})
        if nonce:
            claims["nonce"] = nonce
        tamper = self._take_tamper()
        if not tamper:
            return self._sign(claims)
        token = tampering.tampered_id_token(tamper, claims, self._key, self.kid)
        self.issued.append(token)
        return token

    def access_token(self, *, tenant_id, app, audience, user=None, scopes=None) -> str:
        """An app-only token (roles) or a delegated one (scp), in Graph's v1 access-token shape."""
        now = int(time.time())
        claims = {"aud": audience, "iss": f"https://sts.windows.net/{tenant_id}/", "iat": now, "nbf": now,
                  "exp": now + ACCESS_TOKEN_LIFETIME, "appid": app.client_id, "app_displayname": app.display_name,
                  "tid": tenant_id, "ver": "1.0", "idtyp": "user" if user else "app", "uti": uuid.uuid4().hex[:22]}
        if user:
            claims.update(oid=user.id, scp=" ".join(scopes or []), upn=user.props["userPrincipalName"],
                          name=user.props.get("displayName"))
        else:
            claims.update(oid=str(uuid.uuid5(uuid.NAMESPACE_URL, app.client_id)), sub=app.client_id)
            if app.roles:
                claims["roles"] = sorted(app.roles)
        return self._sign(claims)

    def decode(self, token: str) -> dict:
        """Verify signature (by any published key) and lifetime; raise jwt.PyJWTError subclasses on failure."""
        key = self._keys.get(jwt.get_unverified_header(token).get("kid"))
        if key is None:
            raise jwt.InvalidSignatureError("unknown signing key")
        return jwt.decode(token, key.public_key(), algorithms=["RS256"], options={"verify_aud": False}, leeway=0)


def _pairwise(user_id: str, client_id: str) -> str:
    """Entra's `sub` is pairwise per app; a stable hash reproduces that."""
    return base64.urlsafe_b64encode(uuid.uuid5(uuid.NAMESPACE_OID, f"{user_id}:{client_id}").bytes).decode().rstrip("=")
