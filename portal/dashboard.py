"""The admin dashboard's figures: requester counts, integration health, and 14 days of sign-ins, syncs and devices."""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from portal import audit_people, integrations, live_updates, policy
from portal.database import UtcDay, db
from portal.models import ActionRun, AuditEvent, DeviceSession, Requester, SyncRun, Ticket

SIGN_IN_ACTIONS = ("requester.sign_in", "requester.sign_in_failed", "admin.sign_in", "admin.sign_in_failed")


def overview() -> dict:
    """Everything the dashboard template shows, in one call."""
    recent, health = recent_events(), integration_health()
    return {"waiting": actions_needing_an_admin(), "needs_attention": tickets_needing_attention(), "counts": requester_counts(), "integrations": health,
            "recent": recent, "people": audit_people.target_people(recent),
            "interval": timedelta(minutes=policy.get("sync_interval_minutes")), "sign_ins": sign_ins_per_day(),
            "syncs": recent_syncs(), "devices": devices_by_type(),
            "live": live_updates.statuses([i.id for i, _, _ in health], current_app.config.get("PUBLIC_URL")),
            "poll_factor": current_app.config["LIVE_UPDATES_POLL_FACTOR"]}


def actions_needing_an_admin(limit: int = 10) -> list[ActionRun]:
    """Workflow actions waiting for an approval, or failed in the last 7 days, newest first: the admin's to-do."""
    since = datetime.now(UTC) - timedelta(days=7)
    return db.session.scalars(sa.select(ActionRun).where(sa.or_(
        ActionRun.status == "awaiting_approval",
        sa.and_(ActionRun.status == "failed", ActionRun.created_at >= since))).order_by(ActionRun.id.desc())
        .limit(limit)).all()


def tickets_needing_attention() -> int:
    """How many tickets have a failed action that IT has not dealt with yet."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Ticket).where(Ticket.status == "needs_attention"))


def requester_counts() -> dict:
    """Requesters per status, plus how many are locked right now."""
    counts = dict(db.session.execute(sa.select(Requester.status, sa.func.count()).group_by(Requester.status)).all())
    counts["locked"] = db.session.scalar(sa.select(sa.func.count()).select_from(Requester).where(
        Requester.locked_until > datetime.now(UTC))) or 0
    return counts


def integration_health() -> list[tuple]:
    """Each integration with its secret expiry and the features its permissions still block."""
    return [(i, integrations.expiry_state(i), [row["label"] for row in integrations.permission_checklist(i) if not row["ok"]])
            for i in integrations.all_integrations()]


def recent_events(limit: int = 10) -> list[AuditEvent]:
    """The newest audit events."""
    return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)).all()


def sign_ins_per_day(days: int = 14) -> list[dict]:
    """Requester and admin sign-ins per day, successes against failures, counted by the database (a busy fortnight
    is tens of thousands of events)."""
    start = datetime.now(UTC).date() - timedelta(days=days - 1)
    day = UtcDay(AuditEvent.occurred_at)
    rows = db.session.execute(sa.select(day, AuditEvent.outcome, sa.func.count()).where(
        AuditEvent.action.in_(SIGN_IN_ACTIONS),
        AuditEvent.occurred_at >= datetime.combine(start, datetime.min.time(), UTC)).group_by(day, AuditEvent.outcome)).all()
    table = {(start + timedelta(days=i)).isoformat(): {"success": 0, "failure": 0} for i in range(days)}
    for when, outcome, count in rows:
        if when in table:
            table[when][outcome] += count
    return [{"day": d, **v} for d, v in table.items()]


def recent_syncs(limit: int = 15) -> list[dict]:
    """The latest finished sync runs: duration and changes."""
    runs = db.session.scalars(sa.select(SyncRun).where(SyncRun.finished_at.is_not(None), SyncRun.trigger != "preview")
                              .order_by(SyncRun.id.desc()).limit(limit)).all()
    return [{"run": r.id, "mode": r.mode, "seconds": round((r.finished_at - r.started_at).total_seconds(), 2),
             "changes": r.created + r.updated + r.deactivated + r.reactivated} for r in reversed(runs)]


def devices_by_type() -> list[dict]:
    """Active sessions by device type."""
    rows = db.session.execute(sa.select(DeviceSession.device_type, sa.func.count()).where(
        DeviceSession.ended_at.is_(None)).group_by(DeviceSession.device_type)).all()
    return [{"type": t, "count": n} for t, n in sorted(rows)]
