"""Everything one running emulator holds: directory, signing keys, codes, faults and counters."""
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from emulator.directory import Directory
from emulator.faults import Faults, NotificationFaults
from emulator.notifier import Notifier
from emulator.sign_in_store import SignInStore
from emulator.subscription_store import SubscriptionStore
from emulator.tokens import TokenService


@dataclass
class AuthCode:
    """An issued authorization code, redeemable once within its lifetime."""

    tenant_id: str
    client_id: str
    redirect_uri: str
    user_id: str
    scopes: list
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str
    expires_at: float
    redeemed: bool = False
    auth_time: float = 0.0  # when the person last typed their password (the id token's auth_time claim)


@dataclass
class EmulatorState:
    """Shared state for every request handler (guarded by per-tenant locks where it changes)."""

    directory: Directory
    https_base: str = ""
    http_base: str = ""
    control_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    tokens: TokenService = field(default_factory=TokenService)
    faults: Faults = field(default_factory=Faults)
    notification_faults: NotificationFaults = field(default_factory=NotificationFaults)
    subscriptions: SubscriptionStore = field(default_factory=SubscriptionStore)
    sign_ins: SignInStore = field(default_factory=SignInStore)
    codes: dict = field(default_factory=dict)
    code_lifetime: float = 600.0
    delta_token_ttl: float = 7 * 24 * 3600.0
    lockout_threshold: int = 10
    lockout_seconds: float = 60.0
    stats: dict = field(default_factory=lambda: {"requests": 0, "graph_requests": 0, "throttled": 0, "faults": 0,
                                                 "jwks_requests": 0})
    # Test hook (control API): raw JSON objects appended to the last page of /users and of /users/delta, to see
    # how a client copes with what Graph should never send (missing ids, nulls, wrong types, huge strings).
    raw_users: list = field(default_factory=list)
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.notifier = Notifier(self.subscriptions, self.notification_faults, self.count)
        for tenant in self.directory.tenants.values():
            tenant.listeners.append(self.notifier.on_change)

    @property
    def browser_base(self) -> str:
        """Where people's browsers go (plain http if a second port is served)."""
        return self.http_base or self.https_base

    def count(self, key: str) -> None:
        with self._lock:
            self.stats[key] = self.stats.get(key, 0) + 1

    # Opaque, tamper-proof tokens for skiptokens, delta tokens and the login form context.
    def seal(self, payload: dict) -> str:
        body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
        mac = hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{body}.{mac}"

    def unseal(self, token: str) -> dict | None:
        body, _, mac = (token or "").partition(".")
        expected = hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()[:32]
        if not body or not hmac.compare_digest(mac, expected):
            return None
        try:
            return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None

    def issue_code(self, code: AuthCode) -> str:
        value = secrets.token_urlsafe(48)
        with self._lock:
            now = time.time()
            self.codes = {k: v for k, v in self.codes.items() if v.expires_at > now - 3600}
            self.codes[value] = code
        return value
