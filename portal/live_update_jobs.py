"""Live updates, the runner's side: pending notifications become one delta sync, lifecycle events are answered, and
each integration's subscription is created and renewed. Runs on the scheduler, or in a thread the webhook kicks."""
import logging
import secrets
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urljoin

import sqlalchemy as sa
from flask import current_app

from portal import live_updates, signals
from portal.database import db
from portal.directory.notifications import SUBSCRIPTION_LIFETIME, client_state_digest, renewal_due
from portal.directory.runs import integration_target, start_run
from portal.entra import clients, subscriptions
from portal.exceptions import Conflict, PortalError
from portal.models import ChangeNotification, Integration, LiveUpdateSubscription

log = logging.getLogger("portal.live_updates")
NOTIFICATION_PATH, LIFECYCLE_PATH = "/api/live-updates/notifications", "/api/live-updates/lifecycle"
BUSY_RETRIES = 30
RETRY_FAILED_AFTER_SECONDS = 900  # a refused subscription is tried again a quarter of an hour later
_waiting: set = set()
_waiting_lock = threading.Lock()


def process_inbox(app) -> int:
    """Answer pending lifecycle events, then turn every integration's pending notifications into one delta sync run
    (a burst is one run); rows stay pending while another run is busy. Returns how many runs ran, -1 if some wait."""
    from portal import jobs

    outcomes = []
    with app.app_context():
        try:
            ids = db.session.scalars(sa.select(ChangeNotification.integration_id).where(
                ChangeNotification.processed_at.is_(None)).distinct()).all()
            outcomes = [_process_integration(app, db.session.get(Integration, i)) for i in ids]
        finally:
            db.session.remove()
    if 1 in outcomes:
        jobs.run_queued_syncs(app)
    return -1 if -1 in outcomes else outcomes.count(1)


def _process_integration(app, integration: Integration) -> int:
    """1 if a run was queued, 0 if nothing was needed, -1 if the notifications wait for a busy run."""
    if integration.paused_at:
        return 0  # they wait for resume, like queued syncs
    rows = _pending(integration.id)
    kinds = {row.kind for row in rows}
    if "reauthorizationRequired" in kinds:
        _reauthorize(app, integration)
    if "subscriptionRemoved" in kinds:
        _subscribe(app, integration, signals.SYSTEM, "Microsoft removed the subscription; subscribed again.")
    _settle_lifecycle(rows)  # done once; a removal still needs its delta, kept as "missed"
    rows = [row for row in rows if row.processed_at is None]
    run_id = None
    if rows and integration.status == "verified" and integration.delta_link:
        try:
            run_id = start_run(integration, "delta", "notification").id
        except Conflict:
            return -1
        if any(row.kind == "missed" for row in rows):
            signals.live_updates_resynced.send("live_updates", actor=signals.SYSTEM,
                                               target=integration_target(integration),
                                               reason="Notifications may have been missed: a delta sync catches up.",
                                               detail={"sync_run": run_id})
    db.session.execute(sa.update(ChangeNotification).where(ChangeNotification.id.in_([row.id for row in rows]),
                                                           ChangeNotification.processed_at.is_(None))
                       .values(processed_at=datetime.now(UTC), sync_run_id=run_id))
    db.session.commit()
    return 1 if run_id else 0


def _pending(integration_id: int) -> list[ChangeNotification]:
    return db.session.scalars(sa.select(ChangeNotification).where(
        ChangeNotification.integration_id == integration_id, ChangeNotification.processed_at.is_(None))
        .order_by(ChangeNotification.id)).all()


def _settle_lifecycle(rows: list[ChangeNotification]) -> None:
    for row in rows:
        if row.kind == "reauthorizationRequired":
            row.processed_at = datetime.now(UTC)
        elif row.kind == "subscriptionRemoved":
            row.kind = "missed"
    db.session.commit()


def kick_processing(app) -> None:
    """After the webhook stored something: wait the debounce (a burst settles into one run), then process, in a
    thread; at most one thread waits per app. The scheduler's job is the safety net."""
    if app.config.get("LIVE_UPDATES_KICK", "thread") != "thread":
        return
    with _waiting_lock:
        if id(app) in _waiting:
            return
        _waiting.add(id(app))
    threading.Thread(target=_debounced, args=(app,), name="live-updates-kick", daemon=True).start()


def _debounced(app) -> None:
    _settle(app, app.config.get("LIVE_UPDATES_DEBOUNCE_SECONDS", 0.5), app.config.get("LIVE_UPDATES_MAX_WAIT_SECONDS", 3.0))
    with _waiting_lock:
        _waiting.discard(id(app))
    try:
        for _ in range(BUSY_RETRIES):  # another run was busy: try again once it has had a moment
            if process_inbox(app) != -1:
                break
            time.sleep(1.0)
    except Exception:
        log.exception("processing change notifications failed")


def _settle(app, quiet: float, max_wait: float) -> None:
    """Wait until nothing new arrived for `quiet` seconds, or `max_wait` passed: a burst becomes one delta run."""
    began = time.monotonic()
    while True:
        time.sleep(quiet)
        with app.app_context():
            try:
                # Not the inbox's newest row: a change to someone already waiting adds no row, but it is still news.
                newest = db.session.scalar(sa.select(sa.func.max(LiveUpdateSubscription.last_notification_at)))
            finally:
                db.session.remove()
        if newest is None or (datetime.now(UTC) - newest).total_seconds() >= quiet \
                or time.monotonic() - began + quiet > max_wait:
            return


def maintain(app, now: datetime | None = None) -> dict:
    """Create each verified integration's subscription when PUBLIC_URL is set, renew it well before it expires,
    and make it again once it expired; every step audited. Returns {integration id: status text}."""
    now = now or datetime.now(UTC)
    result = {}
    with app.app_context():
        try:
            for integration in db.session.scalars(sa.select(Integration).where(
                    Integration.status == "verified", Integration.paused_at.is_(None))).all():
                _maintain_one(app, integration, now)
                result[integration.id] = live_updates.status_text(
                    live_updates.subscription_of(integration.id), app.config.get("PUBLIC_URL"), now)
        finally:
            db.session.remove()
    return result


@signals.directory_synced.connect
def _subscribe_after_first_sync(sender, integration_id=None, **_):
    """With PUBLIC_URL set and no subscription yet, subscribe right after the sync instead of within a minute."""
    app = current_app._get_current_object()
    if not app.config.get("PUBLIC_URL") or app.config.get("LIVE_UPDATES_KICK", "thread") != "thread":
        return
    sub = live_updates.subscription_of(integration_id)
    if sub is None or sub.reason == "no_public_url":
        threading.Thread(target=maintain, args=(app,), name="live-updates-subscribe", daemon=True).start()


@signals.integration_uninstalled.connect
def _forget_subscription(sender, target=None, **_):
    """Uninstalled: the secret is gone, so Graph cannot be asked to delete the subscription; forget its clientState
    instead, so whatever still arrives until it lapses (3 days at most) is ignored. Committed with the uninstall."""
    sub = live_updates.subscription_of(int(target.id)) if target is not None else None
    if sub is not None:
        sub.status, sub.reason, sub.client_state_digest = "off", "uninstalled", None


def _maintain_one(app, integration: Integration, now: datetime) -> None:
    sub = _row(integration)
    if not app.config.get("PUBLIC_URL"):
        sub.status, sub.reason = "off", "no_public_url"
        db.session.commit()
        return
    if sub.status == "off" and sub.attempted_at and (now - sub.attempted_at).total_seconds() < RETRY_FAILED_AFTER_SECONDS:
        return
    if sub.status != "on" or sub.subscription_id is None:
        _subscribe(app, integration, signals.SCHEDULER, "Live updates switched on.", now)
    elif sub.expires_at <= now:
        _subscribe(app, integration, signals.SCHEDULER, "The subscription had expired; subscribed again.", now)
    elif renewal_due(sub.expires_at, now):
        _renew(app, integration, sub, now)


def _row(integration: Integration) -> LiveUpdateSubscription:
    sub = live_updates.subscription_of(integration.id)
    if sub is None:
        sub = LiveUpdateSubscription(integration_id=integration.id, status="off")
        db.session.add(sub)
        db.session.flush()
    return sub


def _graph(app, integration: Integration):
    return clients.graph_for(integration, clients.MicrosoftSettings.from_config(app.config))


def _subscribe(app, integration: Integration, actor, why: str, now: datetime | None = None) -> None:
    """POST /subscriptions with a fresh clientState (only its digest is kept); a refusal turns live updates off."""
    now = now or datetime.now(UTC)
    sub, base = _row(integration), app.config["PUBLIC_URL"]
    client_state = secrets.token_urlsafe(32)
    sub.attempted_at = now
    try:
        created = subscriptions.create_user_subscription(
            _graph(app, integration), urljoin(base, NOTIFICATION_PATH), urljoin(base, LIFECYCLE_PATH), client_state,
            now + SUBSCRIPTION_LIFETIME)
    except PortalError as exc:
        _subscription_failed(integration, sub, exc, "validation_failed" if exc.code == "ValidationError" else "failing")
        return
    sub.subscription_id, sub.client_state_digest = created["id"], client_state_digest(client_state)
    sub.status, sub.reason, sub.note = "on", None, None
    sub.expires_at = datetime.fromisoformat(created["expirationDateTime"])
    sub.renewed_at = now
    signals.live_updates_subscribed.send("live_updates", actor=actor, target=integration_target(integration), reason=why,
                                         detail={"subscription_id": sub.subscription_id,
                                                 "expires": sub.expires_at.isoformat()})
    db.session.commit()


def _renew(app, integration: Integration, sub: LiveUpdateSubscription, now: datetime) -> None:
    sub.attempted_at = now
    try:
        renewed = subscriptions.renew_subscription(_graph(app, integration), sub.subscription_id,
                                                   now + SUBSCRIPTION_LIFETIME)
    except PortalError as exc:
        if getattr(exc, "http_status", None) == 404:  # gone at Microsoft: make a new one
            _subscribe(app, integration, signals.SCHEDULER, "The subscription was gone; subscribed again.", now)
            return
        _subscription_failed(integration, sub, exc, "failing")
        return
    sub.expires_at, sub.renewed_at = datetime.fromisoformat(renewed["expirationDateTime"]), now
    signals.live_updates_renewed.send("live_updates", actor=signals.SCHEDULER, target=integration_target(integration),
                                      detail={"subscription_id": sub.subscription_id,
                                              "expires": sub.expires_at.isoformat()})
    db.session.commit()


def _reauthorize(app, integration: Integration) -> None:
    sub = _row(integration)
    try:
        subscriptions.reauthorize_subscription(_graph(app, integration), sub.subscription_id)
    except PortalError as exc:
        _subscription_failed(integration, sub, exc, "failing")
        return
    signals.live_updates_reauthorized.send("live_updates", actor=signals.SYSTEM, target=integration_target(integration),
                                           detail={"subscription_id": sub.subscription_id})
    db.session.commit()


def _subscription_failed(integration: Integration, sub: LiveUpdateSubscription, exc: PortalError, reason: str) -> None:
    """Live updates off, Microsoft's words kept; the delta sync goes on alone at its usual interval."""
    sub.status, sub.reason, sub.note = "off", reason, exc.message
    signals.live_updates_failed.send("live_updates", actor=signals.SYSTEM, target=integration_target(integration),
                                     outcome="failure", reason=exc.message, detail={"graph_code": exc.code})
    db.session.commit()
