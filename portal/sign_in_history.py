"""What Microsoft saw: import each integration's sign-in logs, and lock requesters out after wrong passwords.

The import pages Entra's log from the watermark minus an overlap (Microsoft's logs arrive minutes late), stores each
entry once (unique per integration and Microsoft id), and moves the watermark only after every page is stored, so a
crash or throttling mid-way loses nothing and a second run imports nothing twice.
"""
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from portal import policy, signals
from portal.database import db
from portal.entra import clients, sign_in_logs
from portal.exceptions import EntraError, GraphError
from portal.lockout import LockoutPolicy, is_locked
from portal.models import Integration, Requester, SignInEvent

log = logging.getLogger("portal.sign_ins")
OVERLAP = timedelta(minutes=15)
FIRST_LOOKBACK = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=5)
BATCH = 500
NO_LICENCE = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
LOCKOUT_MODES = {
    "count": "Lock in Frontdesk after wrong passwords at Microsoft",
    "mirror": "Show Microsoft's own lock (no extra lock in Frontdesk)",
    "off": "Off: count only sign-ins that reach Frontdesk",
}


@dataclass
class ImportResult:
    """What one import did: new rows, skipped malformed entries, requesters locked, and the integration's state."""

    imported: int = 0
    skipped: int = 0
    locked: list[int] = field(default_factory=list)
    status: str = "ok"


def import_for(integration: Integration, settings: clients.MicrosoftSettings, now: datetime | None = None) -> ImportResult:
    """Import one integration's new sign-ins and apply the lockout policy; Microsoft's refusals are recorded on the
    integration (and explained on its page), never raised, so the next job still runs."""
    now, result, newest = now or datetime.now(UTC), ImportResult(), integration.sign_in_watermark
    since = (integration.sign_in_watermark - OVERLAP) if integration.sign_in_watermark else now - FIRST_LOOKBACK
    touched: set[int] = set()
    try:
        batch = []
        for raw in sign_in_logs.read_sign_ins(clients.graph_for(integration, settings), since, integration.client_id):
            batch.append(raw)
            if len(batch) >= BATCH:
                newest = _store(integration, batch, result, touched, newest)
                batch = []
        newest = _store(integration, batch, result, touched, newest)
    except (GraphError, EntraError) as exc:
        db.session.rollback()
        result.status = _refused(integration, exc)
        db.session.commit()
        return result
    integration.sign_in_watermark, integration.sign_in_status, integration.sign_in_note = newest, "ok", None
    db.session.commit()
    result.locked = apply_lockout(touched, now)
    return result


def _store(integration: Integration, batch: list, result: ImportResult, touched: set, newest):
    """Insert the entries not stored yet, attributed to requesters by object id; commits the batch."""
    parsed = [p for p in map(sign_in_logs.parse, batch) if p is not None]
    result.skipped += len(batch) - len(parsed)
    known = set(db.session.scalars(sa.select(SignInEvent.microsoft_id).where(
        SignInEvent.integration_id == integration.id, SignInEvent.microsoft_id.in_([p.microsoft_id for p in parsed]))))
    people = dict(db.session.execute(sa.select(Requester.entra_object_id, Requester.id).where(
        Requester.integration_id == integration.id,
        Requester.entra_object_id.in_({p.user_object_id for p in parsed if p.user_object_id}))).all())
    horizon = datetime.now(UTC) + CLOCK_SKEW  # a future-dated entry is stored but never moves the watermark
    for entry in parsed:
        if entry.created_at <= horizon and (newest is None or entry.created_at > newest):
            newest = entry.created_at
        if entry.microsoft_id in known:
            continue
        known.add(entry.microsoft_id)
        requester_id = people.get(entry.user_object_id)
        db.session.add(SignInEvent(integration_id=integration.id, requester_id=requester_id, **entry.__dict__))
        result.imported += 1
        if requester_id and entry.error_code:
            touched.add(requester_id)
    db.session.commit()
    return newest


def _refused(integration: Integration, exc: GraphError | EntraError) -> str:
    """Record why the import cannot run, in words an admin can act on."""
    if exc.code == NO_LICENCE:
        status, note = "no_licence", ("Microsoft serves sign-in logs only to tenants with Entra ID P1 or P2. Without "
                                      "it, only sign-ins that reach Frontdesk are counted.")
    elif getattr(exc, "http_status", None) == 403:
        status, note = "no_permission", ("The app lacks AuditLog.Read.All, so Frontdesk cannot read sign-in logs. "
                                         "Grant it (with admin consent), then run Verify.")
    else:
        status, note = "failing", f"Reading sign-in logs failed: {exc.message}"
    if integration.sign_in_status != status:
        log.warning("sign-in import for integration %s: %s", integration.id, note)
    integration.sign_in_status, integration.sign_in_note = status, note
    return status


def apply_lockout(requester_ids: set[int], now: datetime) -> list[int]:
    """Lock (or mark locked at Microsoft) the requesters whose new failures reach the policy; returns who was locked."""
    values = policy.all_values()
    mode = values.get("microsoft_lockout_mode", "count")
    if mode == "off" or not requester_ids:
        return []
    locked = []
    for requester in db.session.scalars(sa.select(Requester).where(Requester.id.in_(requester_ids))):
        if (_mirror(requester) if mode == "mirror" else _count(requester, now, values)):
            locked.append(requester.id)
    db.session.commit()
    return locked


def _count(requester: Requester, now: datetime, values: dict) -> bool:
    """N wrong passwords at Microsoft within M minutes (and since the last lock) start a Frontdesk lock."""
    if is_locked(requester, now):
        return False
    window_start = now - timedelta(minutes=values["microsoft_lockout_window_minutes"])
    if requester.locked_at and requester.locked_at > window_start:
        window_start = requester.locked_at
    failures = db.session.scalar(sa.select(sa.func.count()).select_from(SignInEvent).where(
        SignInEvent.requester_id == requester.id, SignInEvent.error_code == sign_in_logs.WRONG_PASSWORD,
        SignInEvent.created_at > window_start)) or 0
    if failures < values["microsoft_lockout_threshold"]:
        return False
    duration = LockoutPolicy.from_values(values).duration(requester.lockout_count)
    requester.locked_until, requester.locked_at = now + duration, now
    requester.lockout_count, requester.failed_attempts, requester.first_failed_at = requester.lockout_count + 1, 0, None
    _audit_lock(requester, f"{failures} wrong passwords at Microsoft", {"source": "microsoft_sign_in_logs",
                                                                         "locked_until": requester.locked_until.isoformat()})
    return True


def _mirror(requester: Requester) -> bool:
    """Show Entra's own lock: the newest AADSTS50053 plus Entra's lockout duration (60 s by default)."""
    latest = db.session.scalar(sa.select(sa.func.max(SignInEvent.created_at)).where(
        SignInEvent.requester_id == requester.id, SignInEvent.error_code == sign_in_logs.LOCKED))
    if latest is None:
        return False
    until = latest + timedelta(seconds=policy.get("microsoft_lockout_seconds"))
    if requester.microsoft_locked_until and requester.microsoft_locked_until >= until:
        return False
    requester.microsoft_locked_until = until
    _audit_lock(requester, "locked at Microsoft after too many wrong passwords",
                {"source": "microsoft_lock", "microsoft_locked_until": until.isoformat()})
    return True


def _audit_lock(requester: Requester, reason: str, detail: dict) -> None:
    signals.requester_locked_out.send("sign_in_history", actor=signals.SCHEDULER, outcome="failure", reason=reason,
                                      target=signals.Target("requester", str(requester.id), requester.label),
                                      detail=detail)


def purge_older_than(cutoff: datetime) -> int:
    """Drop imported sign-ins past their retention."""
    done = db.session.execute(sa.delete(SignInEvent).where(SignInEvent.created_at < cutoff))
    db.session.commit()
    return done.rowcount or 0
