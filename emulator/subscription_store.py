"""Graph change notification subscriptions: what each one watches, where it delivers, and when it expires."""
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

MAX_USER_MINUTES = 41760  # Microsoft's longest subscription on users: 29 days
USER_CHANGE_TYPES = ("updated", "deleted")
LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def graph_time(epoch: float) -> str:
    """Graph's subscription timestamps: UTC with seven fractional digits."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"


def url_allowed(url: str) -> bool:
    """https anywhere; plain http only to a loopback host (local development, as for redirect URIs)."""
    parts = urlsplit(url or "")
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)


@dataclass
class Subscription:
    """One subscription of one app in one tenant."""

    tenant_id: str
    application_id: str
    resource: str
    change_types: tuple
    notification_url: str
    expires_at: float
    client_state: str | None = None
    lifecycle_url: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    # After reauthorizationRequired, notifications wait here until the app renews or reauthorizes.
    needs_reauthorization: bool = False
    held: list = field(default_factory=list)

    def render(self) -> dict:
        """The subscription resource as Graph returns it."""
        return {"id": self.id, "resource": self.resource, "applicationId": self.application_id,
                "changeType": ",".join(self.change_types), "clientState": self.client_state,
                "notificationUrl": self.notification_url, "notificationQueryOptions": None,
                "lifecycleNotificationUrl": self.lifecycle_url, "expirationDateTime": graph_time(self.expires_at),
                "creatorId": self.application_id, "includeResourceData": False, "latestSupportedTlsVersion": "v1_2",
                "encryptionCertificate": None, "encryptionCertificateId": None, "notificationUrlAppId": None}


class SubscriptionStore:
    """Every live subscription; an expired one is gone, as Graph deletes them."""

    def __init__(self):
        self._subs: dict[str, Subscription] = {}
        self._lock = threading.Lock()

    def _purge(self) -> None:
        now = time.time()
        for key in [k for k, s in self._subs.items() if s.expires_at <= now]:
            del self._subs[key]

    def add(self, sub: Subscription) -> Subscription:
        with self._lock:
            self._subs[sub.id] = sub
        return sub

    def get(self, sub_id: str) -> Subscription | None:
        with self._lock:
            self._purge()
            return self._subs.get(sub_id)

    def remove(self, sub_id: str) -> Subscription | None:
        with self._lock:
            return self._subs.pop(sub_id, None)

    def all(self, tenant_id: str | None = None, application_id: str | None = None) -> list[Subscription]:
        with self._lock:
            self._purge()
            return [s for s in self._subs.values() if tenant_id in (None, s.tenant_id)
                    and application_id in (None, s.application_id)]

    def matching(self, tenant_id: str, change_type: str) -> list[Subscription]:
        """The live subscriptions a user change of this type notifies."""
        return [s for s in self.all(tenant_id) if change_type in s.change_types]
