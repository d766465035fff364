"""Writes AuditEvent rows from signals, hash-chained, and verifies the chain.

Vocabulary: ACTIONS lists every action the portal records, with what it means. A new signal must
be added there, or start-up fails, so the documented vocabulary and the code cannot drift.
"""
import hashlib
import json
import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import g, has_request_context, request

from portal import signals
from portal.extensions import db
from portal.models import AuditEvent

log = logging.getLogger("portal.audit")

GENESIS = "0" * 64

ACTIONS = {
    "admin.sign_in": "An admin signed in with email and password.",
    "admin.sign_in_failed": "An admin sign-in was refused (wrong password, unknown email, disabled or locked).",
    "admin.locked_out": "Too many failed admin sign-ins locked the account for a while.",
    "admin.sign_out": "An admin signed out.",
    "admin.created": "A local admin account was created (CLI or demo seed).",
    "authorization.denied": "Someone reached a page their role may not open (a requester on an admin page).",
    "setting.changed": "An admin changed a policy setting; detail holds the old and new value.",
    "integration.installed": "An Entra ID integration was installed (credentials checked with Microsoft first).",
    "integration.verified": "Verify succeeded; detail lists the granted application permissions.",
    "integration.failing": "Verify or a Graph call failed; reason and Microsoft's code are kept.",
    "integration.secret_replaced": "The client secret was replaced (the secret itself is never recorded).",
    "integration.secret_expiring": "The client secret expires within 30 or 7 days, or has expired.",
    "integration.removed": "An integration was removed; its requesters were kept and deactivated.",
    "mapping.changed": "The field mapping changed; detail holds old and new attributes of changed fields.",
    "sync.started": "A directory sync run started (manual, scheduler, mapping or CLI).",
    "sync.finished": "A sync run ended; detail summarises created, updated, deactivated and reactivated counts.",
    "requester.sign_in": "A requester signed in with Microsoft (tenant and requester checked, session rotated).",
    "requester.sign_in_failed": "A requester sign-in failed; reason is the failure kind (cancelled, not_synced, ...).",
    "requester.locked_out": "Too many failed sign-ins locked a requester in the portal.",
    "requester.unlocked": "An admin (or a workflow) lifted a requester's portal lock.",
    "requester.sign_out": "A requester signed out.",
    "session.started": "A device session began (requester or admin); detail names the device.",
    "session.revoked": "A device session was ended: by its owner, an admin, the device limit, or an account event.",
    "session.expired": "A device session hit its idle timeout or absolute lifetime.",
    "sync.deactivation_confirmed": "An admin confirmed a held run's deactivations above the threshold.",
}

FORBIDDEN_DETAIL_KEYS = {"password", "secret", "client_secret", "token", "access_token", "id_token",
                         "refresh_token", "temporary_password", "code"}


def _canonical(event: AuditEvent) -> bytes:
    """The exact bytes that are hashed: every content field, sorted, with UTC microsecond time."""
    body = {
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_type": event.actor_type, "actor_id": event.actor_id, "actor_label": event.actor_label,
        "action": event.action, "target_type": event.target_type, "target_id": event.target_id,
        "target_label": event.target_label, "outcome": event.outcome, "reason": event.reason,
        "ip_address": event.ip_address, "user_agent": event.user_agent, "request_id": event.request_id,
        "detail": event.detail or {},
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    """SHA-256 over the previous hash and this event's canonical form."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + _canonical(event)).hexdigest()


def _request_context() -> dict:
    if not has_request_context():
        return {}
    return {"ip_address": request.remote_addr, "user_agent": (request.user_agent.string or "")[:512] or None,
            "request_id": getattr(g, "request_id", None)}


def _lock_chain() -> None:
    """Serialise writers so two workers never chain onto the same previous event."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(7283001)"))


def _scrub(detail: dict) -> dict:
    """Refuse secrets in detail outright; a leak here would be permanent and chained."""
    leaked = FORBIDDEN_DETAIL_KEYS.intersection(k.lower() for k in detail)
    if leaked:
        raise ValueError(f"audit detail must not carry secrets: {sorted(leaked)}")
    return detail


def record(action, *, actor, target=None, outcome="success", reason=None, detail=None, **_):
    """Append one event to the chain in the caller's transaction and log it for a SIEM."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    _lock_chain()
    prev = db.session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
    event = AuditEvent(
        occurred_at=datetime.now(UTC), actor_type=actor.type, actor_id=actor.id, actor_label=actor.label,
        action=action, target_type=target and target.type, target_id=target and target.id,
        target_label=target and target.label, outcome=outcome, reason=reason,
        detail=_scrub(dict(detail or {})), prev_hash=prev, **_request_context(),
    )
    event.hash = compute_hash(prev, event)
    db.session.add(event)
    db.session.flush()
    log.info("audit %s %s", action, outcome, extra={"audit": {"action": action, "outcome": outcome,
             "actor": f"{actor.type}:{actor.id}", "target": target and f"{target.type}:{target.id}",
             "reason": reason, "event_id": event.id}})
    return event


def verify_chain(batch: int = 5000) -> tuple[bool, int, int | None]:
    """Walk the chain in id order; return (ok, events checked, id of the first broken event)."""
    prev, checked, last_id = None, 0, 0
    while True:
        rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.id > last_id)
                                  .order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            return True, checked, None
        for event in rows:
            # The first surviving row may follow an archived cut, so its prev_hash is taken as given.
            expected_prev = event.prev_hash if prev is None else prev
            if event.prev_hash != expected_prev or compute_hash(event.prev_hash, event) != event.hash:
                return False, checked, event.id
            prev, checked, last_id = event.hash, checked + 1, event.id
        db.session.expunge_all()


def _on_signal(action):
    def handler(sender, **kw):
        record(action, **kw)
    return handler


_HANDLERS: dict = {}


def connect_signals() -> None:
    """Subscribe once to every signal; a signal without a documented action is a programming error."""
    for name, sig in signals.all_signals().items():
        if name not in ACTIONS:
            raise RuntimeError(f"signal {name!r} has no entry in portal.audit.ACTIONS")
        if name not in _HANDLERS:
            _HANDLERS[name] = _on_signal(name)
            sig.connect(_HANDLERS[name], weak=False)
