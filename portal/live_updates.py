"""Live updates, the web side: store Graph's notifications durably before answering, and say whether they flow."""
import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.database import db
from portal.directory.notifications import ReceivedNotification, client_state_matches, parse_collection
from portal.exceptions import ValidationError
from portal.models import ChangeNotification, Integration, LiveUpdateSubscription

log = logging.getLogger("portal.live_updates")
REASONS = {"no_public_url": "no public URL (set PUBLIC_URL)", "validation_failed": "validation failed",
           "expired": "subscription expired", "failing": "Microsoft Graph refused the subscription",
           "uninstalled": "the integration is uninstalled"}


def receive(body: bytes, lifecycle: bool) -> int:
    """Keep the notifications whose clientState matches their subscription (the rest are ignored); commits; returns
    how many were stored."""
    try:
        items = parse_collection(body, lifecycle)
    except ValueError:
        raise ValidationError("This is not a Microsoft Graph notification collection.", code="bad_notification") from None
    subs = {s.subscription_id: s for s in db.session.scalars(sa.select(LiveUpdateSubscription).where(
        LiveUpdateSubscription.subscription_id.in_({i.subscription_id for i in items})))} if items else {}
    kept = [(subs[i.subscription_id], i) for i in items if i.subscription_id in subs
            and client_state_matches(i.client_state, subs[i.subscription_id].client_state_digest)
            and _tenant_matches(subs[i.subscription_id], i)]
    if len(kept) < len(items):
        log.warning("ignored %d notification(s) with an unknown subscription, clientState or tenant", len(items) - len(kept))
    if not kept:
        return 0
    now = datetime.now(UTC)
    rows = {}
    for sub, item in kept:
        sub.last_notification_at = now
        rows[(sub.integration_id, item.kind, item.object_id)] = {
            "integration_id": sub.integration_id, "subscription_id": item.subscription_id, "kind": item.kind,
            "object_id": item.object_id, "received_at": now}
    # A row already waiting for the same user (a duplicate, or an earlier change) covers this one: one look at them.
    insert = (postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert)(ChangeNotification)
    db.session.execute(insert.values(list(rows.values())).on_conflict_do_nothing(
        index_elements=["integration_id", "kind", "object_id"], index_where=sa.text("processed_at IS NULL")))
    db.session.commit()
    return len(kept)


def _tenant_matches(sub: LiveUpdateSubscription, item: ReceivedNotification) -> bool:
    integration = db.session.get(Integration, sub.integration_id)
    tenant = integration.directory_tenant_id if integration else None
    return tenant is None or tenant.lower() == item.tenant_id.lower()


def subscription_of(integration_id: int) -> LiveUpdateSubscription | None:
    """An integration's subscription row, if one was ever made or tried."""
    return db.session.scalar(sa.select(LiveUpdateSubscription).where(
        LiveUpdateSubscription.integration_id == integration_id))


def healthy(sub: LiveUpdateSubscription | None, now: datetime) -> bool:
    """On, and not past its expiry: notifications can arrive."""
    return sub is not None and sub.status == "on" and sub.expires_at is not None and sub.expires_at > now


def status_text(sub: LiveUpdateSubscription | None, public_url: str | None, now: datetime | None = None) -> str:
    """"on, last change 3 s ago", or "off: " and why, for the dashboard."""
    now = now or datetime.now(UTC)
    if not public_url:
        return "off: " + REASONS["no_public_url"]
    if healthy(sub, now):
        last = sub.last_notification_at
        return "on, last change " + _ago(now - last) if last else "on, no change yet"
    if sub is None:
        return "starting: the subscription is made within a minute"
    if sub.status == "on":
        return "off: " + REASONS["expired"]
    return "off: " + REASONS.get(sub.reason, sub.reason or "starting")


def _ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def status_for(integration_id: int, public_url: str | None) -> str:
    """One integration's live updates line (the integration page's checklist note)."""
    return status_text(subscription_of(integration_id), public_url)


def statuses(integration_ids: list[int], public_url: str | None) -> dict:
    """The dashboard's live updates line per integration id, in one query (none without integrations)."""
    if not integration_ids:
        return {}
    now = datetime.now(UTC)
    subs = {s.integration_id: s for s in db.session.scalars(sa.select(LiveUpdateSubscription).where(
        LiveUpdateSubscription.integration_id.in_(integration_ids)))}
    return {i: status_text(subs.get(i), public_url, now) for i in integration_ids}


def polling_interval(integration_id: int, base: timedelta, factor: int, now: datetime) -> timedelta:
    """The delta sync stays as the safety net; while notifications flow it can run `factor` times less often."""
    return base * factor if healthy(subscription_of(integration_id), now) else base
