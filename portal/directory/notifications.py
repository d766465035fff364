"""Graph change notifications, read without trusting them: shapes checked, clientState compared, nothing else used."""
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

LIFECYCLE_EVENTS = ("reauthorizationRequired", "subscriptionRemoved", "missed")
CHANGE_TYPES = ("updated", "deleted")
OBJECT_ID = re.compile(r"^[0-9a-fA-F-]{36}$")
SUBSCRIPTION_LIFETIME = timedelta(days=3)  # asked of Graph (users allow 29); renewed with a day to spare
RENEW_WHEN_LEFT = timedelta(days=1)
MAX_NOTIFICATIONS = 1000  # per POST; Graph sends far fewer


@dataclass(frozen=True)
class ReceivedNotification:
    """What the portal keeps of one notification: whose subscription, what kind, which user (an id, never data)."""

    subscription_id: str
    client_state: str
    tenant_id: str
    kind: str
    object_id: str | None


def client_state_digest(value: str) -> str:
    """The stored form of a clientState: SHA-256, so a database reader cannot forge notifications."""
    return hashlib.sha256(value.encode()).hexdigest()


def client_state_matches(received: str, stored_digest: str | None) -> bool:
    """Constant-time comparison of the digests, so timing says nothing about the secret."""
    return bool(stored_digest) and hmac.compare_digest(client_state_digest(received), stored_digest)


def parse_collection(body: bytes, lifecycle: bool) -> list[ReceivedNotification]:
    """{"value": [...]} as Graph posts it; malformed items are dropped, a malformed body raises ValueError."""
    data = json.loads(body)
    items = data.get("value") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) > MAX_NOTIFICATIONS:
        raise ValueError("not a change notification collection")
    found = []
    for item in items:
        parsed = _lifecycle_item(item) if lifecycle else _change_item(item)
        if parsed is not None:
            found.append(parsed)
    return found


def _common(item) -> tuple[str, str, str] | None:
    if not isinstance(item, dict):
        return None
    fields = tuple(item.get(k) for k in ("subscriptionId", "clientState", "tenantId"))
    if not all(isinstance(v, str) and 0 < len(v) <= 128 for v in fields):
        return None
    return fields


def _change_item(item) -> ReceivedNotification | None:
    common = _common(item)
    if common is None or item.get("changeType") not in CHANGE_TYPES:
        return None
    data = item.get("resourceData")
    object_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(object_id, str) or not OBJECT_ID.match(object_id):
        return None
    return ReceivedNotification(*common, item["changeType"], object_id.lower())


def _lifecycle_item(item) -> ReceivedNotification | None:
    common = _common(item)
    if common is None or item.get("lifecycleEvent") not in LIFECYCLE_EVENTS:
        return None
    return ReceivedNotification(*common, item["lifecycleEvent"], None)


def renewal_due(expires_at: datetime | None, now: datetime) -> bool:
    """Renew with a day to spare, so a scheduler that stopped for hours still renews in time."""
    return expires_at is None or expires_at - now <= RENEW_WHEN_LEFT


def graph_expiry(moment: datetime) -> str:
    """expirationDateTime as Graph reads it: UTC with a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
