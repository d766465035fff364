"""RS256 signing of id tokens and access tokens, and the JWKS that publishes the key."""
import base64
import time
import uuid
from collections import deque

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ACCESS_TOKEN_LIFETIME = 3599
ID_TOKEN_LIFETIME = 3600
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


class TokenService:
    """Holds the signing key; issues and validates tokens the way Entra's v2 endpoint shapes them."""

    def __init__(self):
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.issued: deque = deque(maxlen=20000)  # every token issued, newest last (tests check none leaks)
        self.kid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")

    def jwks(self) -> dict:
        """The public key as Microsoft publishes it at /discovery/v2.0/keys."""
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "kty": "RSA", "x5t": self.kid})
        return {"keys": [jwk]}

    def _sign(self, claims: dict) -> str:
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})
        self.issued.append(token)
        return token

    def id_token(self, *, issuer, client_id, tenant_id, user, nonce) -> str:
        """An id token with the claims the portal checks: iss, aud, nonce, oid, tid, sub, preferred_username, name."""
        now = int(time.time())
        claims = {"ver": "2.0", "iss": issuer, "aud": client_id, "iat": now, "nbf": now, "exp": now + ID_TOKEN_LIFETIME,
                  "tid": tenant_id, "oid": user.id, "sub": _pairwise(user.id, client_id),
                  "preferred_username": user.props["userPrincipalName"], "name": user.props.get("displayName"),
                  "email": user.props.get("mail"), "uti": uuid.uuid4().hex[:22], "rh": "0.emulator"}
        if nonce:
            claims["nonce"] = nonce
        return self._sign(claims)

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
        """Verify signature and lifetime; raise jwt.PyJWTError subclasses on failure."""
        return jwt.decode(token, self._key.public_key(), algorithms=["RS256"], options={"verify_aud": False},
                          leeway=0)


def _pairwise(user_id: str, client_id: str) -> str:
    """Entra's `sub` is pairwise per app; a stable hash reproduces that."""
    return base64.urlsafe_b64encode(uuid.uuid5(uuid.NAMESPACE_OID, f"{user_id}:{client_id}").bytes).decode().rstrip("=")
