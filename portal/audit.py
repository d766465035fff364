"""Writes AuditEvent rows from signals, hash-chained, and verifies the chain.

Vocabulary: ACTIONS lists every action the portal records, with what it means. A new signal must
be added there, or start-up fails, so the documented vocabulary and the code cannot drift.
"""
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import g, has_request_context, request

from portal import signals
from portal.database import db
from portal.models import AuditEvent

log = logging.getLogger("portal.audit")

GENESIS = "0" * 64

ACTIONS = {
    "admin.sign_in": "An admin signed in: with Microsoft (detail: method microsoft, and why they are an admin) or "
                     "with a local break-glass account's email and password (detail: break_glass).",
    "admin.role_granted": "Entra made someone a portal admin, or changed why (first Microsoft sign-in, another group).",
    "admin.role_revoked": "A Microsoft admin lost the role in Entra (seen at sign-in or after a sync): disabled, and "
                          "every session ended.",
    "role_rule.added": "An admin mapped an Entra group to the admin role on the Roles page.",
    "role_rule.removed": "An admin unmapped an Entra group from the admin role; its members' roles were checked again.",
    "admin.sign_in_failed": "An admin sign-in was refused (wrong password, unknown email, disabled or locked).",
    "admin.locked_out": "Too many failed admin sign-ins locked the account for a while.",
    "admin.sign_out": "An admin signed out.",
    "admin.created": "A local admin account was created (CLI or demo seed).",
    "admin.step_up": "An admin entered their password again before a security change (settings, secrets, mail "
                     "templates, installs, workflows, ending others' sessions); a wrong one counts as a failed sign-in.",
    "authorization.denied": "Someone reached a page their role may not open (a requester on an admin page).",
    "setting.changed": "An admin changed a policy setting; detail holds the old and new value.",
    "mail.test_sent": "An admin sent a mail template to their own address as a test (sample values and a sample "
                      "password, never a real one); the outcome says whether the mail server took it.",
    "integration.installed": "An Entra ID integration was installed (credentials checked with Microsoft first).",
    "integration.verified": "Verify succeeded; detail lists the granted application permissions.",
    "integration.failing": "Verify or a Graph call failed; reason and Microsoft's code are kept.",
    "integration.secret_replaced": "The client secret was replaced (the secret itself is never recorded).",
    "integration.secret_expiring": "The client secret expires within 30 or 7 days, or has expired.",
    "integration.paused": "An admin paused an integration: syncs and actions wait; detail says whether sign-in goes on.",
    "integration.resumed": "An admin resumed a paused integration; waiting actions run.",
    "integration.uninstalled": "An admin uninstalled an integration (after typing its name): secret wiped, requesters "
                               "deactivated and detached, queued work cancelled.",
    "mapping.changed": "The field mapping changed; detail holds old and new attributes of changed fields.",
    "sync.started": "A directory sync run started (manual, scheduler, mapping or CLI).",
    "sync.finished": "A sync run ended; detail summarises created, updated, deactivated and reactivated counts.",
    "requester.sign_in": "A requester signed in with Microsoft (tenant and requester checked, session rotated).",
    "requester.sign_in_failed": "A requester sign-in failed; reason is the failure kind (cancelled, not_synced, ...).",
    "requester.locked_out": "Too many failed sign-ins locked a requester in the portal.",
    "requester.unlocked": "An admin (or a workflow) lifted a requester's portal lock.",
    "requester.sign_out": "A requester signed out.",
    "audit.archived": "Events older than the retention were written to a JSON Lines archive and deleted.",
    "ticket.created": "A requester raised a ticket (the subject and description are not copied here).",
    "ticket.status_changed": "A ticket's status changed: by an admin, or by the system when its actions finished or "
                             "a failed one was retried; detail holds old, new and why.",
    "ticket.commented": "A requester or an admin commented on a ticket (internal: an admin's note); the text is not "
                        "copied here.",
    "workflow.saved": "An admin created or changed a workflow; detail lists its steps.",
    "action.requested": "A workflow, or an admin from a requester's page (with a reason), queued an App Integration "
                        "action (reset, unlock, disable, revoke sessions) for a requester.",
    "action.finished": "An App Integration action ended; detail holds Graph's request id and the mail outcome.",
    "action.awaiting_approval": "An action stopped to wait for an admin's approval (Unlock of an account disabled in "
                                "the directory); the requester's portal lock is already lifted.",
    "action.approved": "An admin approved an action that was waiting; it runs again, recording who approved it.",
    "approval.requested": "A ticket's actions wait for an approval; detail names who may decide (a manager, a named "
                          "admin or any admin).",
    "approval.approved": "The approver approved; when nothing else is undecided, the ticket's actions run.",
    "approval.rejected": "The approver rejected, with a comment; the ticket's waiting actions were cancelled.",
    "approval.expired": "Nobody decided in time; the ticket's waiting actions were cancelled.",
    "session.started": "A device session began (requester or admin); detail names the device.",
    "session.revoked": "A device session was ended: by its owner, an admin, the device limit, or an account event.",
    "session.expired": "A device session hit its idle timeout or absolute lifetime.",
    "sync.deactivation_confirmed": "An admin confirmed a held run's deactivations above the threshold.",
    "live_updates.subscribed": "Frontdesk subscribed to Microsoft's change notifications for users (at install or the "
                               "first sync, or again after Microsoft removed or expired the subscription).",
    "live_updates.renewed": "The change notification subscription was renewed well before it expired.",
    "live_updates.reauthorized": "Microsoft asked for reauthorization (reauthorizationRequired) and Frontdesk gave it.",
    "live_updates.resynced": "Microsoft said notifications were missed, or removed the subscription: a delta sync was "
                             "queued so nothing is lost.",
    "live_updates.failed": "Subscribing or renewing failed (validation failed, endpoint unreachable, Graph error): "
                           "live updates are off and the delta sync carries on alone.",
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


@dataclass
class Filters:
    """What the audit page and the exports filter on."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None        # actor type, or "type:id"
    action: str | None = None       # exact action or a prefix ending in "." (e.g. "session.")
    outcome: str | None = None
    target: str | None = None       # "type:id", or text in the target label
    text: str | None = None         # free text in actor, target, reason or request id

    def apply(self, query):
        """Add the WHERE clauses for the set filters."""
        if self.since:
            query = query.where(AuditEvent.occurred_at >= self.since)
        if self.until:
            query = query.where(AuditEvent.occurred_at < self.until)
        if self.actor:
            kind, _, ident = self.actor.partition(":")
            query = query.where(AuditEvent.actor_type == kind)
            if ident:
                query = query.where(AuditEvent.actor_id == ident)
        if self.action:
            query = query.where(AuditEvent.action.startswith(self.action) if self.action.endswith(".")
                                else AuditEvent.action == self.action)
        if self.outcome in ("success", "failure"):
            query = query.where(AuditEvent.outcome == self.outcome)
        if self.target:
            kind, sep, ident = self.target.partition(":")
            if sep and kind.isidentifier():
                query = query.where(AuditEvent.target_type == kind, AuditEvent.target_id == ident)
            else:
                query = query.where(sa.func.lower(AuditEvent.target_label).contains(self.target.lower(), autoescape=True))
        if self.text:
            needle = self.text.lower()
            query = query.where(sa.or_(*(sa.func.lower(col).contains(needle, autoescape=True) for col in (
                AuditEvent.actor_label, AuditEvent.target_label, AuditEvent.reason, AuditEvent.request_id,
                AuditEvent.ip_address))))
        return query


def page(filters: Filters, before_id: int | None = None, limit: int = 50) -> tuple[list[AuditEvent], int | None]:
    """Keyset pagination, newest first: events with id < before_id; returns the next cursor."""
    query = filters.apply(sa.select(AuditEvent)).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    rows = db.session.scalars(query).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


EXPORT_FIELDS = ("id", "occurred_at", "actor_type", "actor_id", "actor_label", "action", "target_type", "target_id",
                 "target_label", "outcome", "reason", "ip_address", "user_agent", "request_id", "detail", "prev_hash", "hash")


def as_dict(event: AuditEvent) -> dict:
    """One event as plain JSON-safe values."""
    out = {name: getattr(event, name) for name in EXPORT_FIELDS}
    out["occurred_at"] = event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    return out


def stream(filters: Filters, batch: int = 1000):
    """Yield matching events oldest first in keyset batches, so memory stays flat for any export size."""
    last = 0
    while True:
        rows = db.session.scalars(filters.apply(sa.select(AuditEvent)).where(AuditEvent.id > last)
                                  .order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            return
        for event in rows:
            yield as_dict(event)
        last = rows[-1].id
        db.session.expunge_all()


def archive_and_purge(before: datetime, directory, actor=signals.SCHEDULER) -> tuple[int, str | None]:
    """Write events older than `before` to a JSON Lines file, then delete them; the chain stays verifiable."""
    from pathlib import Path

    path = Path(directory) / f"audit-until-{before:%Y%m%dT%H%M%S}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    count, last_id = 0, None
    with path.open("w", encoding="utf-8") as out:
        for row in stream(Filters(until=before)):
            out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count, last_id = count + 1, row["id"]
    if not count:
        path.unlink()
        return 0, None
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id <= last_id))
    signals.audit_archived.send("audit", actor=actor, target=signals.Target("audit", None, path.name),
                                detail={"events": count, "last_id": last_id, "file": path.name})
    db.session.commit()
    return count, str(path)


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
